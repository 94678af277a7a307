"""What `make demo`'s agents say makes sense (issue 20), judged by `tests/cookbook/judge.py`
over five consecutive runs of the workflow on the embedded model, each on a fresh server,
as `make demo` runs it. Several minutes on 2 cores."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cookbook.helpers import step_one, step_two
from tests.cookbook.judge import Verdict, judge_run
from tests.support.servers import ServerProcess
from troupe.cookbook.team import DEFAULT_MODEL, DEMO_SERVER_ENV, EXAMPLE_MESSAGE

pytestmark = pytest.mark.slow

RUNS = 5
PASSING = 5  # the rate the README states: 5 runs of 5 (measured 6 December 2026)


def one_run(database_factory: Any, folder: Path) -> Verdict:
    folder.mkdir()
    server = ServerProcess(database_factory("sqlite"), folder, env=DEMO_SERVER_ENV)
    server.start()
    try:
        team = step_one(server.url, "1.x", model=DEFAULT_MODEL)
        step_two(server.url, "1.x", team, folder / "my_log.txt", EXAMPLE_MESSAGE, timeout=1200)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            return judge_run(http, team.supervisor, team.workers)
    finally:
        server.stop()


def test_the_demo_agents_say_sensible_things(database_factory: Any, tmp_path: Path) -> None:
    verdicts = [one_run(database_factory, tmp_path / f"run-{n}") for n in range(RUNS)]
    for n, verdict in enumerate(verdicts):
        print(f"run {n}: {'pass' if verdict.passed else 'FAIL'} {verdict}")
    passed = sum(v.passed for v in verdicts)
    assert passed >= PASSING, [v.faults for v in verdicts]


def test_the_judge_tells_sense_from_nonsense() -> None:
    from tests.cookbook.judge import judge

    sensible = judge(
        EXAMPLE_MESSAGE,
        "Please send a progress update on the quarterly analysis project.",
        {
            "worker_1": "The quarterly sales data analysis is in review.",
            "worker_2": "I started the summary report.",
            "worker_3": "The presentation slides are in progress.",
        },
        "worker_1 has analysed the data. worker_2 is writing. worker_3 is on the slides.",
    )
    assert sensible.passed, sensible.faults
    nonsense = judge(
        EXAMPLE_MESSAGE,
        "2025-10-31T08:49:56Z",
        {
            "worker_1": '"assigned_to": "worker_1"}} {',
            "worker_2": "{{<tool>}}, {<persona>}}",
            "worker_3": "Your task is going to be completed.",
        },
        "2025-10-31T08:49:56Z",
    )
    # the broadcast, two replies that are no sentence, three that name nothing, the answer
    assert len(nonsense.faults) == 7, nonsense.faults
