"""The supervisor–worker cookbook as users run it: step 1 and step 2 as subprocesses, with
the official SDK (1.x and the 0.1.x line), against real servers on SQLite and PostgreSQL,
with a deterministic model that plays the supervisor and the workers."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cookbook.helpers import (
    EXAMPLES,
    WORKERS,
    assert_coordinated,
    sdk_env,
    sdk_version,
    section,
    statuses,
    step_one,
    step_two,
)
from tests.support.servers import ServerProcess, free_port
from troupe.cookbook.team import EXAMPLE_MESSAGE


@pytest.mark.parametrize("sdk", ["1.x", "0.1.x"])
def test_the_two_steps_coordinate_the_team_and_write_the_log(
    server: ServerProcess, sdk: str, tmp_path: Path
) -> None:
    assert ("letta-client-0.1" in sdk_version(sdk)) == (sdk == "0.1.x")
    team = step_one(server.url, sdk)
    assert "interact_with_multi_agent.py" in team.step1
    assert f"--supervisor {team.supervisor} --workers {' '.join(team.workers)}" in team.step1

    log_path = tmp_path / "my_log.txt"
    out = step_two(server.url, sdk, team, log_path, EXAMPLE_MESSAGE)
    log = log_path.read_text()
    assert_coordinated(log)
    assert "supervisor: done (2 steps)" in out, "the team's progress is shown"
    assert f"log written to {log_path}" in out
    for worker in WORKERS:
        assert f"supervisor → {worker}: 1" in out

    configuration = section(log, "Configuration")
    assert "tool rules: run_first:send_message_to_agents_matching_all_tags" in configuration
    assert configuration.count("tool rules: run_first:memory_replace") == 3
    with httpx.Client(base_url=server.url) as http:
        supervisor = http.get(f"/v1/agents/{team.supervisor}").json()
        block = next(b for b in supervisor["blocks"] if b["label"] == "team_tasks")
        stored = http.get(f"/v1/blocks/{block['id']}").json()["value"]
    assert statuses(stored) == statuses(section(log, "Shared memory after"))


def test_a_second_team_on_the_server_never_hears_the_first_ones_broadcast(
    server: ServerProcess, tmp_path: Path
) -> None:
    first, second = step_one(server.url, "1.x"), step_one(server.url, "1.x")
    step_two(server.url, "1.x", second, tmp_path / "log.txt", "status?")
    with httpx.Client(base_url=server.url) as http:
        for worker in first.workers:
            history = http.get(f"/v1/agents/{worker}/messages").json()
            assert [m["message_type"] for m in history] == ["system_message"]  # the head only


def test_without_tool_rules_the_model_leads_the_same_flow(
    server: ServerProcess, tmp_path: Path
) -> None:
    team = step_one(server.url, "1.x", "--no-tool-rules")
    step_two(server.url, "1.x", team, tmp_path / "log.txt", EXAMPLE_MESSAGE)
    log = (tmp_path / "log.txt").read_text()
    assert "tool rules: none" in section(log, "Configuration")
    assert_coordinated(log)
    assert set(statuses(section(log, "Shared memory after")).values()) == {"in_review"}


def test_interactive_keeps_asking_and_logs_every_request(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A second request after the rule's edit is done: that edit can no longer apply, the
    worker sees the error and still replies (the turn does not spin until max_steps)."""
    team = step_one(server.url, "1.x")
    log_path = tmp_path / "log.txt"
    step_two(
        server.url, "1.x", team, log_path, EXAMPLE_MESSAGE, "--interactive",
        stdin="Anything blocking you?\n\n",
    )  # fmt: skip
    log = log_path.read_text()
    assert "## Request 1: What's the status" in log
    second = log.split("## Request 2: Anything blocking you?", 1)[1]
    for worker in WORKERS:
        assert f"{worker} → supervisor" in second
    assert second.count("tool_return_message: [error]") == 3
    assert "supervisor → user" in second


@pytest.mark.parametrize("sdk", ["1.x", "0.1.x"])
def test_an_unknown_agent_or_no_server_is_one_line_and_exit_1(
    server: ServerProcess, sdk: str, tmp_path: Path
) -> None:
    missing = "agent-00000000-0000-0000-0000-000000000000"
    down = f"http://127.0.0.1:{free_port()}"
    for url, supervisor in [(server.url, missing), (down, missing)]:
        done = subprocess.run(
            [
                sys.executable, str(EXAMPLES / "interact_with_multi_agent.py"),
                "--server", url, "--supervisor", supervisor, "--workers", missing,
                "--message", "hi", "--output", str(tmp_path / "log.txt"),
            ],
            env=sdk_env(sdk), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("error: ")
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
