"""Run the cookbook's example scripts as a user does: subprocesses, with either SDK line."""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.sdks import LEGACY_DIR
from tests.support.servers import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "multi-agent-workflow"
TEAM_MODEL = "test/function:tests.support.models:team_member"
WORKERS = ["worker_1", "worker_2", "worker_3"]
AGENT_LINE = re.compile(r"^(supervisor|worker_\d+): (agent-\S+)$", re.MULTILINE)


def sdk_env(sdk: str) -> dict[str, str]:
    """The environment of a script run: for "0.1.x", `letta_client` IS the 0.1.x package
    (its folder comes first on PYTHONPATH, ahead of the installed 1.x)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROUPE_")}
    if sdk == "0.1.x":
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(LEGACY_DIR.parent), env.get("PYTHONPATH")])
        )
    return env


def sdk_version(sdk: str) -> str:
    code = "import importlib.metadata as m, letta_client as c; print(c.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code], env=sdk_env(sdk), capture_output=True, text=True, check=True
    ).stdout.strip()


def run(args: list[str], sdk: str, stdin: str | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        env=sdk_env(sdk),
        cwd=REPO_ROOT,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Team:
    supervisor: str
    workers: list[str]
    step1: str


def step_one(server: str, sdk: str, *extra: str, model: str = TEAM_MODEL) -> Team:
    out = run(
        [str(EXAMPLES / "1_multi_agent_letta.py"), "--server", server, "--model", model, *extra],
        sdk,
    )
    ids = dict(AGENT_LINE.findall(out))
    return Team(ids["supervisor"], [ids[w] for w in WORKERS], out)


def step_two(
    server: str,
    sdk: str,
    team: Team,
    log: Path,
    message: str,
    *extra: str,
    stdin: str | None = None,
    timeout: float = 300,
) -> str:
    return run(
        [
            str(EXAMPLES / "interact_with_multi_agent.py"),
            "--server", server,
            "--supervisor", team.supervisor,
            "--workers", *team.workers,
            "--message", message,
            "--output", str(log),
            *extra,
        ],
        sdk,
        stdin=stdin,
        timeout=timeout,
    )  # fmt: skip


def section(log: str, title: str) -> str:
    """The text under a `## title` (or `### title`) heading, up to the next heading."""
    match = re.search(
        rf"^#+ {re.escape(title)}[^\n]*\n(.*?)(?=^#+ |\Z)", log, re.MULTILINE | re.DOTALL
    )
    assert match, f"no section {title!r} in the log:\n{log}"
    return match.group(1)


def statuses(tasks_json: str) -> dict[str, str]:
    data: dict[str, Any] = json.loads(tasks_json)
    return {t["assigned_to"]: t["status"] for t in data["active_tasks"]}


def assert_coordinated(log: str) -> None:
    """The flow every run must show: the supervisor reached each worker, each worker moved
    its own task's status in the shared block, every reply came back to the supervisor,
    and the diagram names all four agents."""
    activity = section(log, "Activity")
    for worker in WORKERS:
        assert re.search(rf"supervisor → {worker} +system_message: ", activity), activity
        assert re.search(rf"{worker} → supervisor +assistant_message: ", activity), activity
        assert re.search(rf"{worker} +tool_call_message: memory_replace\(", activity), activity
    assert re.search(r"user → supervisor +user_message: ", activity)
    assert re.search(r"supervisor → user +assistant_message: ", activity)
    before = statuses(section(log, "Shared memory before"))
    after = statuses(section(log, "Shared memory after"))
    assert set(before) == set(after) == set(WORKERS)
    for worker in WORKERS:
        assert after[worker] != before[worker], (worker, before, after)
    changes = section(log, "Summary")
    for number, worker in enumerate(WORKERS, start=1):
        assert f"task-00{number} ({worker}): status {before[worker]} → {after[worker]}" in changes
    diagram = section(log, "Sequence diagram").split("```mermaid", 1)[1].split("```", 1)[0]
    assert diagram.strip().startswith("sequenceDiagram")
    for name in ["supervisor", *WORKERS]:
        assert re.search(rf"participant a\d+ as {name}\n", diagram), diagram
    assert "[Message from agent" not in diagram, "deliveries read as what was sent"
