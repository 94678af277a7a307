"""Hostile tools: each is stopped with a clear error, leaves nothing running, and the server
(this test process) is unharmed."""

import asyncio
import contextlib
import gc
import json
import os
import uuid
from pathlib import Path

import psutil
import pytest

from tests.tools.helpers import IS_ROOT, OnLoop, Sandbox, alive, living, run, settle
from troupe.tools.sandbox import SandboxLimits, SandboxResult

only_as_root = pytest.mark.skipif(not IS_ROOT, reason="tools get a user id of their own as root")


def test_an_endless_loop_is_stopped_at_the_timeout_with_its_whole_process_group(
    sandbox: Sandbox,
) -> None:
    source = (
        "import os, subprocess\n"
        "def f():\n"
        "    child = subprocess.Popen(['sleep', '300'])\n"
        "    print(os.getpid(), child.pid, flush=True)\n"
        "    while True:\n"
        "        pass\n"
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=2))
    assert result.status == "error"
    assert result.return_value.startswith("the tool timed out after 2 s and was stopped")
    tool_pid, child_pid = map(int, result.stdout.split())
    settle(lambda: living(pgid=tool_pid))
    assert living(pgid=tool_pid) == []
    assert not alive(child_pid)


def test_a_child_left_sleeping_after_a_normal_return_is_ended(sandbox: Sandbox) -> None:
    source = (
        "import subprocess\n"
        "def f():\n"
        "    return subprocess.Popen(['sleep', '300']).pid\n"  # holds stdout and stderr open
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=20))
    assert result.status == "success"  # the call did not wait for the child (no timeout)
    settle(lambda: alive(int(result.return_value)))
    assert not alive(int(result.return_value))


@only_as_root
def test_a_child_that_leaves_the_process_group_is_ended_too(sandbox: Sandbox) -> None:
    source = (
        "import os, subprocess, time\n"
        "def f():\n"
        "    child = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "    print(child.pid, os.getuid(), flush=True)\n"
        "    time.sleep(300)\n"
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=2))
    child_pid, uid = map(int, result.stdout.split())
    settle(lambda: living(uid=uid))
    assert not alive(child_pid)
    assert living(uid=uid) == []


def test_cancelling_the_call_kills_the_tool(on_loop: OnLoop) -> None:
    me = psutil.Process()

    def tool_processes() -> list[psutil.Process]:
        return [p for p in me.children() if "sandbox_child" in " ".join(p.cmdline())]

    async def start_then_cancel() -> list[psutil.Process]:
        call = asyncio.create_task(run("import time\ndef f():\n    time.sleep(300)"))
        for _ in range(200):  # until the tool's process is up
            if started := tool_processes():
                break
            await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        return started

    started = on_loop(start_then_cancel())
    assert started
    settle(lambda: any(alive(p.pid) for p in started))
    assert not any(alive(p.pid) for p in started)


def test_a_memory_hog_gets_a_memory_error(sandbox: Sandbox) -> None:
    result = sandbox("def f():\n    return len(bytearray(1024 * 1024 * 1024))")
    assert result.status == "error"
    assert result.return_value.startswith("MemoryError: the tool ran out of memory (256 MB)")


def test_a_cpu_hog_is_stopped_by_its_cpu_limit(sandbox: Sandbox) -> None:
    limits = SandboxLimits(timeout_s=60, cpu_s=1)
    result = sandbox("def f():\n    while True:\n        pass", limits=limits)
    assert result.status == "error"
    assert result.return_value.startswith("the tool process was stopped by SIGXCPU")


def test_tools_run_niced_and_first_in_line_for_the_oom_killer(sandbox: Sandbox) -> None:
    source = "import os\ndef f():\n    return [open('/proc/self/oom_score_adj').read().strip(), os.nice(0)]"
    result = sandbox(source)
    assert json.loads(result.return_value) == ["1000", min(os.nice(0) + 10, 19)]


def test_a_fork_bomb_is_contained_and_nothing_is_left_running(sandbox: Sandbox) -> None:
    source = (
        "import os, time\n"
        "def f():\n"
        "    forked = 0\n"
        "    for _ in range(1000):\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(300)\n"
        "                os._exit(0)\n"
        "            forked += 1\n"
        "        except OSError:\n"
        "            break\n"
        "    print(forked, os.getpid(), os.getuid(), flush=True)\n"
        "    time.sleep(300)\n"
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=5, max_processes=32))
    assert result.status == "error"
    assert "timed out" in result.return_value
    forked, pgid, uid = map(int, result.stdout.split())
    assert forked < 1000  # RLIMIT_NPROC refused a fork
    if IS_ROOT:
        assert forked < 32  # the tool's own user id: the limit counts this call alone
    settle(lambda: living(pgid=pgid))
    assert living(pgid=pgid) == []
    if IS_ROOT:
        assert living(uid=uid) == []
    assert psutil.Process().status() != psutil.STATUS_ZOMBIE  # and we are fine


def test_a_huge_file_is_stopped_by_the_file_size_limit(sandbox: Sandbox) -> None:
    source = (
        "def f():\n"
        "    with open('big', 'wb') as out:\n"
        "        for _ in range(64):\n"
        "            out.write(b'x' * 1024 * 1024)\n"
        "    return 'wrote it all'"
    )
    result = sandbox(source, limits=SandboxLimits(timeout_s=10, max_file_mb=16))
    assert result.status == "error"
    assert result.return_value.startswith("OSError: [Errno 27] File too large")


def test_many_files_filling_the_disk_are_stopped(sandbox: Sandbox) -> None:
    source = (
        "def f():\n"
        "    for i in range(60):\n"  # 600 MB in files under the 16 MB file limit
        "        with open(f'part{i}', 'wb') as out:\n"
        "            out.write(b'x' * 10_000_000)\n"
        "    return 'filled it'"
    )
    limits = SandboxLimits(timeout_s=60, max_file_mb=16, max_disk_mb=64)
    result = sandbox(source, limits=limits)
    assert result.status == "error"
    assert result.return_value.startswith("the tool was stopped for filling the disk")
    assert "fell by more than 64 MB" in result.return_value


@only_as_root
def test_files_left_in_shared_temporary_folders_are_removed(sandbox: Sandbox) -> None:
    name = f"troupe-drill-{uuid.uuid4().hex}"
    source = (
        "import os\n"
        "def f(name: str) -> list:\n"
        "    os.makedirs(f'/tmp/{name}/deep')\n"
        "    open(f'/tmp/{name}/deep/x', 'w').write('x')\n"
        "    open(f'/dev/shm/{name}', 'w').write('x')\n"
        "    return sorted(os.listdir('/tmp'))\n"
    )
    result = sandbox(source, name=name)
    assert name in json.loads(result.return_value)  # it was there while the tool ran
    assert not Path(f"/tmp/{name}").exists()
    assert not Path(f"/dev/shm/{name}").exists()


@only_as_root
def test_as_root_the_tool_runs_unprivileged_and_cannot_reach_the_server(
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    private = tmp_path / "server-secret.txt"
    private.write_text("sk-server-file-secret")
    private.chmod(0o600)
    source = (
        "import os\n"
        "def f(server_pid: int, private: str) -> dict:\n"
        "    seen = {'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups()}\n"
        "    seen['status'] = open(f'/proc/{server_pid}/status').read()[:5]\n"
        "    for name, attempt in [\n"
        "        ('environ', lambda: open(f'/proc/{server_pid}/environ').read()),\n"
        "        ('file', lambda: open(private).read()),\n"
        "        ('signal', lambda: os.kill(server_pid, 0)),\n"
        "        ('setuid', lambda: os.setuid(0)),\n"
        "    ]:\n"
        "        try:\n"
        "            seen[name] = repr(attempt())\n"
        "        except OSError as exc:\n"
        "            seen[name] = f'denied: {exc.strerror}'\n"
        "    return seen\n"
    )
    result = sandbox(source, server_pid=os.getpid(), private=str(private))
    seen = json.loads(result.return_value)
    assert seen["uid"] != 0
    assert seen["gid"] != 0
    assert seen["groups"] == []
    assert seen["status"] == "Name:"  # the server's process is there to see...
    for attempt in ("environ", "file", "signal", "setuid"):  # ...and out of reach
        assert seen[attempt].startswith("denied"), (attempt, seen[attempt])


@only_as_root
def test_concurrent_tools_run_as_different_users_and_cannot_read_each_other(
    on_loop: OnLoop,
) -> None:
    victim = "import os, time\ndef f():\n    time.sleep(4)\n    return os.getuid()"
    snoop = (
        "import os, time\n"
        "def tool_process(pid: str) -> bool:\n"
        "    try:\n"
        "        return b'sandbox_child' in open(f'/proc/{pid}/cmdline', 'rb').read()\n"
        "    except OSError:\n"
        "        return False\n"
        "def f() -> dict:\n"
        "    for _ in range(60):\n"
        "        others = [p for p in os.listdir('/proc')\n"
        "                  if p.isdigit() and int(p) != os.getpid() and tool_process(p)]\n"
        "        if others:\n"
        "            break\n"
        "        time.sleep(0.05)\n"
        "    found = {'uid': os.getuid(), 'others': len(others), 'read': [], 'signalled': []}\n"
        "    for pid in others:\n"
        "        try:\n"
        "            found['read'].append(open(f'/proc/{pid}/environ').read())\n"
        "        except OSError:\n"
        "            pass\n"
        "        try:\n"
        "            os.kill(int(pid), 0)\n"
        "            found['signalled'].append(pid)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return found\n"
    )
    limits = SandboxLimits(timeout_s=20)

    async def both() -> tuple[SandboxResult, SandboxResult]:
        victim_call = asyncio.create_task(
            run(victim, env={"TROUPE_API_KEY": "token-of-agent-a"}, limits=limits)
        )
        snooped = await run(snoop, limits=limits)
        return await victim_call, snooped

    victim_result, snooped = on_loop(both())
    found = json.loads(snooped.return_value)
    assert found["others"] >= 1
    assert found["uid"] != int(victim_result.return_value)
    assert found["read"] == []
    assert found["signalled"] == []


@only_as_root
def test_packages_under_a_folder_the_tool_cannot_enter_still_import(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's packages may sit in a checkout under a 0700 folder (a home, a temporary
    folder); the tool's own user cannot walk there, yet imports what the server installed."""
    from troupe.tools import sandbox as sandbox_module

    closed = tmp_path / "closed"
    packages = closed / "site-packages"
    (packages / "probe_pkg").mkdir(parents=True)
    (packages / "probe_pkg" / "__init__.py").write_text("WHERE = 'inside'\n")
    packages.chmod(0o755)
    (packages / "probe_pkg").chmod(0o755)
    closed.chmod(0o700)
    python, real = sandbox_module.interpreter(True)
    monkeypatch.setattr(sandbox_module, "interpreter", lambda _: (python, (*real, str(packages))))
    source = (
        "import os\n"
        "def f():\n"
        f"    assert not os.access({str(packages)!r}, os.X_OK)\n"
        "    import probe_pkg\n"
        "    return probe_pkg.WHERE\n"
    )
    result = sandbox(source)
    assert (result.status, result.return_value) == ("success", "inside"), result.return_value


def test_a_call_cancelled_at_any_turn_of_its_start_leaves_no_process_and_no_fd(
    on_loop: OnLoop,
) -> None:
    """Cancelled at each loop turn of its start in turn (the spawn, each pipe's transport
    being made, the wait), a call leaves no tool process and no fd behind, and closes none
    of anyone else's: a pipe's transport cut while being made once left its fd to be closed
    twice, the second time under a `subprocess.run` of the clean-up (EBADF)."""
    me = psutil.Process()

    async def cancel_after(turns: int) -> None:
        call = asyncio.create_task(run("def f():\n    return 1"))
        for _ in range(turns):
            await asyncio.sleep(0)
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call  # or its result: the call ended before this turn

    on_loop(cancel_after(1000))  # a whole call first: what a loop opens once (uvloop: /dev/null)
    # Earlier tests' garbage (an SDK client's sockets to a server that outlives its file) is
    # collected before the count, or its fds would close during it, as if this test had.
    gc.collect()
    fds = set(os.listdir("/proc/self/fd"))
    for turns in range(40):
        on_loop(cancel_after(turns))
        gc.collect()  # a stray file object closes its fd now, not in a later test
    assert [p for p in me.children() if "sandbox_child" in " ".join(p.cmdline())] == []
    assert set(os.listdir("/proc/self/fd")) == fds
