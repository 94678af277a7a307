"""Hostile user tools, through the server, on SQLite and PostgreSQL: a tool that reads the
server's files (its SQLite database and data folder, its process environment), a fork bomb, one that fills the
disk and one that eats memory. Each call ends with a clear tool error (or finds nothing to
read), the agent's turn goes on, and the server is unharmed: same process, bounded memory,
answering, and its store intact. (tests/tools/test_sandbox_drills.py drills the sandbox
itself; tests/server/test_user_tools.py covers secrets in the environment and time limits.)"""

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.drills.helpers import assert_store_intact
from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import ServerProcess

IS_ROOT = os.geteuid() == 0

READ_SERVER_FILES = '''
import os

def read_server_files(paths: list) -> str:
    """Try to read each path (a file, or a folder to list).

    Args:
        paths: Paths of the server's own files.
    """
    seen = {}
    for path in paths:
        try:
            if os.path.isdir(path):
                seen[path] = "listed: " + ", ".join(sorted(os.listdir(path)))
            else:
                with open(path, "rb") as handle:
                    seen[path] = "read: " + repr(handle.read(64))
        except OSError as exc:
            seen[path] = f"denied: {exc.strerror}"
    return __import__("json").dumps(seen)
'''

FORK_BOMB = '''
import os, time

def fork_bomb() -> str:
    """Fork until something stops us."""
    forked = 0
    for _ in range(10_000):
        try:
            if os.fork() == 0:
                time.sleep(300)
                os._exit(0)
            forked += 1
        except OSError as exc:
            raise RuntimeError(f"fork refused after {forked}: {exc.strerror}")
    return f"forked {forked}"
'''

FILL_DISK = '''
def fill_disk() -> str:
    """Write 10 MB files until something stops us."""
    for i in range(200):
        with open(f"part{i}", "wb") as out:
            out.write(b"x" * 10_000_000)
    return "filled it"
'''

EAT_MEMORY = '''
def eat_memory() -> str:
    """Allocate 100 MB at a time until something stops us."""
    hoard = []
    for _ in range(100):
        hoard.append(bytearray(100 * 1024 * 1024))
    return f"holding {len(hoard) * 100} MB"
'''

TOOLS = [READ_SERVER_FILES, FORK_BOMB, FILL_DISK, EAT_MEMORY]
ENV = {
    "TROUPE_TOOL_TIMEOUT": "10",
    "TROUPE_TOOL_MAX_PROCESSES": "32",
    "TROUPE_TOOL_MAX_DISK_MB": "100",
    "TROUPE_TOOL_MEMORY_MB": "256",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, database_factory: Any) -> Iterator[ServerProcess]:
    # Not under pytest's private temporary folder: a home others may look into, as ~ is.
    home = Path(tempfile.mkdtemp(prefix="troupe-drill-home-"))
    home.chmod(0o755)
    database = database_factory(request.param)
    if request.param == "sqlite":  # in a folder the server makes itself, as by default
        database = f"sqlite+aiosqlite:///{home / 'troupe-data' / 'troupe.db'}"
    server = ServerProcess(database, home, env=ENV)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def victim(target: ServerProcess) -> dict[str, Any]:
    with httpx.Client(base_url=target.url, timeout=60) as http:
        for source in TOOLS:
            response = http.put("/v1/tools/", json={"source_code": source})
            assert response.status_code == 200, response.text
        return make_agent(
            http,
            tools=["read_server_files", "fork_bomb", "fill_disk", "eat_memory"],
            memory_blocks=[{"label": "persona", "value": "target"}],
        )


def _attack(target: ServerProcess, victim: dict[str, Any], tool: str, **args: Any) -> str:
    """Run the tool in a turn that goes on to reply; return what the tool gave back."""
    with httpx.Client(base_url=target.url, timeout=120) as http:
        result = send(
            http,
            victim["id"],
            script(
                {"tool": tool, "args": args},
                {"tool": "send_message", "args": {"message": "still here"}},
            ),
        )
    returned = of_type(result, "tool_return_message")[0]
    assert of_type(result, "assistant_message")[0]["content"] == "still here"
    assert result["stop_reason"]["stop_reason"] == "end_turn"
    return (
        returned["tool_return"]
        if returned["status"] == "success"
        else "error: " + returned["tool_return"]
    )


def _assert_unharmed(target: ServerProcess, victim: dict[str, Any]) -> None:
    assert target.process is not None
    assert target.process.poll() is None, "the server process is still the same and running"
    rss_mb = psutil.Process(target.process.pid).memory_info().rss / 2**20
    assert rss_mb < 400, f"the server holds {rss_mb:.0f} MB"
    with httpx.Client(base_url=target.url, timeout=60) as http:
        assert http.get("/v1/health/").json()["status"] == "ok"
        assert http.get(f"/v1/agents/{victim['id']}").status_code == 200
    assert_store_intact(target.database_url)


@pytest.mark.skipif(not IS_ROOT, reason="tools get a user id of their own only as root")
def test_a_tool_cannot_read_the_servers_database_data_folder_or_environ(
    target: ServerProcess, victim: dict[str, Any]
) -> None:
    paths = [f"/proc/{target.process.pid}/environ"]  # type: ignore[union-attr]
    if target.database_url.startswith("sqlite"):
        database = Path(target.database_url.split(":///", 1)[1])
        paths += [str(database), f"{database}-wal", f"{database}-shm", str(database.parent)]
    seen = json.loads(_attack(target, victim, "read_server_files", paths=paths))
    assert all(outcome.startswith("denied") for outcome in seen.values()), seen
    _assert_unharmed(target, victim)


def test_a_fork_bomb_is_refused_and_the_server_is_unharmed(
    target: ServerProcess, victim: dict[str, Any]
) -> None:
    before = len(psutil.Process(target.process.pid).children(recursive=True))  # type: ignore[union-attr]
    outcome = _attack(target, victim, "fork_bomb")
    prefix = "error: Error executing function fork_bomb: RuntimeError: fork refused after"
    assert outcome.startswith(prefix), outcome
    assert int(outcome.split("after ")[1].split(":")[0]) < 32
    after = len(psutil.Process(target.process.pid).children(recursive=True))  # type: ignore[union-attr]
    assert after <= before, "nothing the tool forked is left running"
    _assert_unharmed(target, victim)


@pytest.mark.parametrize(
    ("tool", "error"),
    [
        ("fill_disk", r"the tool was stopped for filling the disk: .* fell by more than 100 MB"),
        # A tool that raises reads as Letta words it: the function, the exception type, its text.
        (
            "eat_memory",
            r"Error executing function eat_memory: MemoryError: the tool ran out of memory \(256 MB\)",
        ),
    ],
)
def test_a_tool_filling_the_disk_or_eating_memory_is_stopped(
    target: ServerProcess, victim: dict[str, Any], tool: str, error: str
) -> None:
    outcome = _attack(target, victim, tool)
    assert re.match(f"error: {error}", outcome), outcome
    for folder in re.findall(r"/tmp/troupe-tool-\w+", outcome):
        assert not Path(folder).exists(), "the tool's files are gone"
    _assert_unharmed(target, victim)
