"""A server that is not root: its tools run as its own user, yet cannot read its environment.

The "server" here is a real process running the sandbox: as root the test starts it as
`nobody`, otherwise as the test's own user."""

import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from tests.tools.helpers import IS_ROOT
from troupe.tools import sandbox_identity

REPO = Path(__file__).resolve().parents[2]

SERVER = """
import asyncio, json, os
from troupe.tools.sandbox import SandboxLimits, run_tool_in_sandbox

SOURCE = '''
import os
def f(server_pid: int) -> dict:
    seen = {"uid": os.getuid(), "env": dict(os.environ)}
    try:
        seen["environ"] = open(f"/proc/{server_pid}/environ").read()
    except OSError as exc:
        seen["environ"] = f"denied: {exc.strerror}"
    forked = 0
    try:
        for _ in range(100):
            if os.fork() == 0:
                import time
                time.sleep(30)
                os._exit(0)
            forked += 1
    except OSError:
        pass
    seen["forked"] = forked
    return seen
'''

result = asyncio.run(run_tool_in_sandbox(
    source_code=SOURCE, function_name="f", arguments={"server_pid": os.getpid()}, env={},
    limits=SandboxLimits(timeout_s=20, max_processes=8),
))
print(json.dumps({"uid": os.getuid(), "status": result.status, "value": result.return_value}))
"""


def _server_user() -> tuple[int, str] | None:
    """(uid, python) to run the pretend server with, or None when this machine can't."""
    if not IS_ROOT:
        return os.getuid(), sandbox_identity.interpreter(False)[0]
    python = sandbox_identity.interpreter(True)[0]
    readable = all(
        sandbox_identity._world_readable(path)
        for path in (Path(python), REPO / "troupe" / "tools" / "sandbox.py")
    )
    return (pwd.getpwnam("nobody").pw_uid, python) if readable else None


def test_a_non_root_servers_environment_is_out_of_its_tools_reach() -> None:
    found = _server_user()
    if found is None:
        pytest.skip("no Python and checkout readable by nobody on this machine")
    uid, python = found
    packages = sandbox_identity.interpreter(False)[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(REPO), *packages]),
        "OPENAI_API_KEY": "sk-non-root-server-secret",
    }
    completed = subprocess.run(
        [python, "-c", SERVER],
        env=env,
        cwd="/",
        user=uid if IS_ROOT else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    server = json.loads(completed.stdout)
    assert server["status"] == "success", server["value"]
    seen = json.loads(server["value"])
    assert seen["uid"] == server["uid"] == uid  # the same user: no other to run as
    assert seen["environ"] == "denied: Permission denied"
    assert "sk-non-root-server-secret" not in server["value"]
    assert 0 < seen["forked"] < 100  # RLIMIT_NPROC: the user's count plus the budget
