"""The `troupe` command as a person runs it: a subprocess against a real server."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import unique
from tests.support.servers import REPO_ROOT, ServerProcess, free_port

ECHO = "test/echo"
TEAM_MODEL = "test/function:tests.support.models:team_member"


def troupe(
    *args: str, server: str | None = None, timeout: float = 120, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROUPE_")}
    env["COLUMNS"] = "200"  # a terminal's width: piped output ignores it (see below)
    env.update(extra_env)
    if server:
        env["TROUPE_URL"] = server
    return subprocess.run(
        [sys.executable, "-m", "troupe", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(*args: str, server: str) -> str:
    done = troupe(*args, server=server)
    assert done.returncode == 0, f"troupe {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_agents_create_list_show_delete(server: ServerProcess) -> None:
    name = unique("cli-agent")
    created = ok(
        "agents", "create", name, "--model", ECHO, "--persona", "I help.", "--tag", "cli",
        "--tag", name, server=server.url,
    )  # fmt: skip
    agent_id = re.search(r"agent-[0-9a-f-]{36}", created).group(0)  # type: ignore[union-attr]
    assert "I help." in created
    listed = ok("agents", "list", "--tag", name, server=server.url)
    assert re.search(r"\b1 agent\b(?!s)", listed)
    assert agent_id in listed
    shown = ok("agents", "show", name, server=server.url)
    assert agent_id in shown
    assert ECHO in shown
    assert "persona" in shown
    ok("agents", "delete", agent_id, "--yes", server=server.url)
    assert httpx.get(f"{server.url}/v1/agents/{agent_id}").status_code == 404


def test_blocks_create_show_edit_list(server: ServerProcess) -> None:
    label = unique("notes").replace("-", "_")
    created = ok("blocks", "create", label, "first line", "--limit", "200", server=server.url)
    block_id = re.search(r"block-[0-9a-f-]{36}", created).group(0)  # type: ignore[union-attr]
    edited = ok("blocks", "edit", block_id, "--append", "second line", server=server.url)
    assert "version 2" in edited
    shown = ok("blocks", "show", block_id, server=server.url)
    assert "first line\nsecond line" in shown
    assert "agents: none" in shown
    assert block_id in ok("blocks", "list", "--label", label, server=server.url)
    assert_one_line_error(
        troupe("blocks", "edit", block_id, server=server.url), "--value", "--append"
    )


def test_send_streams_the_reply_and_trace_shows_tree_and_diagram(server: ServerProcess) -> None:
    name = unique("talker")
    ok("agents", "create", name, "--model", ECHO, server=server.url)
    sent = ok("send", name, "hello there", server=server.url)
    assert "echo: hello there" in sent
    assert "stop: end_turn" in sent
    trace_id = re.search(r"trace: (trace-\S+)", sent).group(1)  # type: ignore[union-attr]
    traced = ok("trace", trace_id, server=server.url)
    assert f"trace {trace_id}" in traced
    assert name in traced
    assert "request" in traced
    assert "sequenceDiagram" in traced
    assert "echo: hello there" in traced


def test_bad_input_is_one_line_and_a_nonzero_exit(server: ServerProcess) -> None:
    assert_one_line_error(troupe("send", "nobody-by-this-name", "hi", server=server.url), "nobody")
    assert_one_line_error(
        troupe("agents", "show", "agent-00000000-0000-0000-0000-000000000000", server=server.url),
        "404",
    )
    assert_one_line_error(troupe("trace", "trace-missing", server=server.url), "404")
    assert_one_line_error(troupe("blocks", "show", "block-missing", server=server.url), "404")
    refused = troupe("blocks", "create", "", "a value", server=server.url, COLUMNS="200")
    assert_one_line_error(refused, "422", "label")
    assert "{'type'" not in refused.stderr  # the field and the reason, not a raw dict


def test_a_server_that_is_not_there_is_one_line_and_a_nonzero_exit() -> None:
    down = f"http://127.0.0.1:{free_port()}"
    for args in [("agents", "list"), ("send", "agent-x", "hi"), ("trace", "t"), ("demo",)]:
        extra = ("--server", down) if args == ("demo",) else ()
        assert_one_line_error(troupe(*args, *extra, server=down), "no troupe server", down)


@pytest.mark.parametrize(
    "command",
    [
        [], ["server"], ["agents"], ["agents", "create"], ["agents", "list"], ["agents", "show"],
        ["agents", "delete"], ["blocks"], ["blocks", "list"], ["blocks", "show"],
        ["blocks", "create"], ["blocks", "edit"], ["send"], ["trace"], ["demo"], ["check"],
        ["runs"], ["runs", "list"], ["runs", "show"], ["runs", "cancel"], ["export"], ["import"],
    ],
)  # fmt: skip
def test_every_command_explains_itself(command: list[str]) -> None:
    done = troupe(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: " in done.stdout
    assert len(done.stdout.splitlines()) > 5


def test_demo_runs_the_cookbook_against_a_server(server: ServerProcess, tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    out = ok(
        "demo",
        "--server",
        server.url,
        "--model",
        TEAM_MODEL,
        "--output",
        str(log),
        server=server.url,
    )
    for worker in ["worker_1", "worker_2", "worker_3"]:
        assert f"supervisor → {worker}: 1" in out
        assert f"{worker} → supervisor: 1" in out
    assert "task-002 (worker_2): status pending → in_progress" in out
    assert f"log: {log}" in out
    assert "## Activity" not in out
    assert "### Activity (time order)" in log.read_text()
    done = troupe(
        "demo", "--server", server.url, "--model", TEAM_MODEL, "--output", str(log), "--json"
    )
    outcome = json.loads(done.stdout)  # stdout is the JSON alone; progress went to stderr
    assert len(outcome["worker_ids"]) == 3
    assert outcome["log"] == str(log.resolve())
    assert any("worker_2" in line for line in outcome["summary"])
    assert "== step 1: the team ==" in done.stderr


def test_demo_starts_its_own_server_and_stops_it(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    done = troupe(
        "demo", "--model", TEAM_MODEL, "--output", str(log),
        TROUPE_ENABLE_TEST_MODELS="1", PYTHONPATH=str(REPO_ROOT),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = re.search(r"troupe is up at (http://127\.0\.0\.1:\d+)", done.stdout).group(1)  # type: ignore[union-attr]
    assert "task-001 (worker_1): status in_progress → in_review" in done.stdout
    assert "### Activity (time order)" in log.read_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/health/", timeout=2)


# Every command that prints a result: with --json, one JSON document (the server's shapes).
JSON_COMMANDS = {
    ("agents", "create"), ("agents", "list"), ("agents", "show"), ("agents", "delete"),
    ("blocks", "create"), ("blocks", "list"), ("blocks", "show"), ("blocks", "edit"),
    ("send",), ("trace",), ("check",), ("runs", "list"), ("runs", "show"), ("runs", "cancel"),
    ("server",), ("demo",), ("export",), ("import",),
}  # fmt: skip


def json_of(*args: str, server: ServerProcess) -> Any:
    return json.loads(ok(*args, "--json", server=server.url))


def test_every_command_answers_json(server: ServerProcess) -> None:
    name = unique("json-agent")
    created = json_of("agents", "create", name, "--model", ECHO, server=server)
    assert created["name"] == name
    assert created["id"] in [a["id"] for a in json_of("agents", "list", server=server)]
    assert json_of("agents", "show", name, server=server)["id"] == created["id"]

    block = json_of("blocks", "create", unique("board"), "todo", server=server)
    assert block["id"] in [b["id"] for b in json_of("blocks", "list", server=server)]
    assert json_of("blocks", "show", block["id"], server=server)["agents"] == []
    edited = json_of("blocks", "edit", block["id"], "--append", "done", server=server)
    assert (edited["value"], edited["version"]) == ("todo\ndone", 2)

    lines = ok("send", name, "hi", "--json", server=server.url).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["message_type"] for e in events[-3:]] == ["stop_reason", "usage_statistics", "trace"]
    run_id, trace_id = events[-1]["run_id"], events[-1]["trace_id"]
    assert json_of("trace", trace_id, server=server)["trace_id"] == trace_id
    assert run_id in [r["id"] for r in json_of("runs", "list", "--agent", name, server=server)]
    shown = json_of("runs", "show", run_id, server=server)
    assert (shown["status"], len(shown["steps"])) == ("completed", 1)
    assert json_of("runs", "cancel", name, server=server) == {}

    checked = json.loads(troupe("check", "--json", TROUPE_DATABASE_URL=server.database_url).stdout)
    assert checked["ok"] is True
    assert checked["counts"]["agents"] >= 1
    assert json_of("agents", "delete", name, "--yes", server=server) == {"deleted": created["id"]}
    tried = {tuple(c) for c in JSON_COMMANDS}
    assert all("--json" in troupe(*c, "--help").stdout for c in tried)


def test_piped_output_never_folds_an_id(server: ServerProcess) -> None:
    """However narrow the terminal says it is, output that is not a terminal keeps each id
    whole on its line, for grep and scripts."""
    name = unique("narrow")
    agent = json_of("agents", "create", name, "--model", ECHO, server=server)
    ok("send", name, "hello", server=server.url)
    for args in (("agents", "list", "--name", name), ("runs", "list", "--agent", name)):
        listed = troupe(*args, server=server.url, COLUMNS="30").stdout
        ids = re.findall(r"(?:agent|run)-[0-9a-f-]+", listed)
        assert ids, listed
        assert all(len(i.split("-", 1)[1]) == 36 for i in ids), listed
    assert (
        agent["id"]
        in troupe("agents", "list", "--name", name, server=server.url, COLUMNS="30").stdout
    )


def test_a_turn_cut_by_max_steps_is_shown_as_such(server: ServerProcess) -> None:
    name = unique("capped")
    ok("agents", "create", name, "--model", "test/scripted", "--human", "notes", server=server.url)
    append = {"tool": "core_memory_append", "args": {"label": "human", "content": "x"}}
    endless = "SCRIPT: " + json.dumps([append, append, {"tool": "send_message", "args": {}}])
    sent = ok("send", name, endless, "--max-steps", "1", server=server.url)
    assert "step limit (1 steps)" in sent
    assert "stop: max_steps" not in sent
    runs = ok("runs", "list", "--agent", name, server=server.url)
    assert "stopped: max steps" in runs
    finished = ok("send", name, "hello", server=server.url)
    assert "stop: end_turn" in finished
    assert "completed" in ok("runs", "list", "--agent", name, server=server.url)


def test_export_then_import_an_agent_file(server: ServerProcess, tmp_path: Path) -> None:
    name = unique("travel")
    ok("agents", "create", name, "--model", ECHO, "--tag", "cli-af", server=server.url)
    path = tmp_path / "agent.af"
    written = json_of("export", name, "-o", str(path), server=server)
    assert written == {"file": str(path), "agents": [name]}
    assert json.loads(path.read_text())["agents"][0]["tags"] == ["cli-af"]
    assert json.loads(ok("export", name, server=server.url))["agents"][0]["name"] == name

    imported = json_of("import", str(path), "--copy-suffix", server=server)
    [copy] = imported["agent_ids"]
    shown = json_of("agents", "show", copy, server=server)
    assert (shown["name"], shown["model"], shown["tags"]) == (f"{name}_copy", ECHO, ["cli-af"])
    printed = ok("import", str(path), "--name", unique("named"), server=server.url)
    assert re.search(r"agent-[0-9a-f-]{36}  named-", printed)
    assert_one_line_error(troupe("import", str(tmp_path / "nope.af"), server=server.url), "nope.af")
