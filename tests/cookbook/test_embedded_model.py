"""The cookbook on the real embedded model (llama.cpp, SmolLM2-135M): the words are a 135M
model's, the flow is the tool rules' and must hold every time. About a minute on 2 free
cores, so one run, on SQLite."""

from pathlib import Path

import pytest

from tests.cookbook.helpers import assert_coordinated, section, step_one, step_two
from tests.support.servers import ServerProcess
from troupe.cookbook.team import DEFAULT_MODEL, EXAMPLE_MESSAGE

pytestmark = pytest.mark.slow


def test_the_embedded_model_runs_the_whole_flow(
    sqlite_server: ServerProcess, tmp_path: Path
) -> None:
    team = step_one(sqlite_server.url, "1.x", model=DEFAULT_MODEL)
    log_path = tmp_path / "my_log.txt"
    step_two(sqlite_server.url, "1.x", team, log_path, EXAMPLE_MESSAGE, timeout=1200)
    log = log_path.read_text()
    assert_coordinated(log)
    assert log.count(f"model {DEFAULT_MODEL}") == 4
    activity = section(log, "Activity")
    assert "tool_call_message: send_message_to_agents_matching_all_tags(" in activity
    assert activity.count("tool_return_message: [success] memory block 'team_tasks' updated") == 3
