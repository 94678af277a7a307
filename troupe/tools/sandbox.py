"""Run user tools in a separate, limited process.

Each call gets a fresh process (`python -I` running sandbox_child.py) in its own session, a
fresh temporary directory as cwd, HOME and TMPDIR (deleted afterwards), rlimits on memory,
CPU, file size and process count, and an environment built from nothing: the server's secrets
(model keys, database URL, API key) are not in it. Who the tool runs as, and why that keeps
the server's /proc environ and files out of its reach, is in sandbox_identity.py.

The server stays safe from the tool's output too: stdout and stderr are read as they come and
only the first `max_output_chars` are kept; the result travels on a pipe of its own."""

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from troupe.tools.sandbox_identity import (
    SHARED_TMP_DIRS,
    ToolIdentity,
    acquire_identity,
    end_processes,
    interpreter,
    remove_leftovers,
)

CHILD = Path(__file__).with_name("sandbox_child.py")
MIB = 1024 * 1024
DISK_POLL_S = 0.1
DRAIN_GRACE_S = 2.0  # for pipes still held by a process we could not kill (not root)


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 30.0  # wall clock, for the whole call
    cpu_s: int = 30  # RLIMIT_CPU, per process
    memory_mb: int = 512  # RLIMIT_AS, per process
    # RLIMIT_NPROC: the kernel counts it per user id and ignores it for root. As root, each
    # call runs under a user id of its own, so this is exactly the call's process budget.
    # Not root, tools share the server's user: the budget is added to that user's current
    # count, so a busy server neither starves a tool nor hands a fork bomb its whole limit.
    max_processes: int = 64
    max_file_mb: int = 16  # RLIMIT_FSIZE, per file
    max_output_chars: int = 100_000  # each of stdout, stderr and the return value
    # How much free space the filesystems a tool can write to (its own folder, /tmp,
    # /var/tmp, /dev/shm) may lose while it runs; past it the tool is stopped.
    max_disk_mb: int = 1024


@dataclass(frozen=True)
class SandboxResult:
    status: Literal["success", "error"]
    return_value: str  # str() of the result (JSON for dict/list), or what went wrong
    stdout: str
    stderr: str
    # When the tool's own code raised: `return_value` is the exception's type and message,
    # and this the frames of the tool's code it came through.
    raised: bool = False
    traceback: str = ""


async def run_tool_in_sandbox(
    *,
    source_code: str,
    function_name: str,
    arguments: dict[str, Any],
    env: dict[str, str],
    limits: SandboxLimits = SandboxLimits(),
    agent: dict[str, str] | None = None,
    args_schema: dict[str, Any] | None = None,
) -> SandboxResult:
    """Call `function_name(**arguments)` from `source_code` in the sandbox; never raises for
    anything the tool does (errors, hangs, limits) but returns it as an error result.
    `agent`: the calling agent's id and name, for a function that takes Letta's reserved
    `agent_state` argument (None when no agent calls). `args_schema`: the tool's
    `args_json_schema`, whose models the source runs with and the arguments are validated
    into (sandbox_models.py); None for most tools, which then cost nothing more."""
    identity = acquire_identity()
    workdir = Path(tempfile.mkdtemp(prefix="troupe-tool-"))
    try:
        if identity.uid is not None:
            os.chown(workdir, identity.uid, identity.uid)
        job = {
            "source": source_code,
            "function": function_name,
            "arguments": arguments,
            "agent": agent,
            "limits": {
                "memory_mb": limits.memory_mb,
                "cpu_s": limits.cpu_s,
                "max_file_mb": limits.max_file_mb,
                "max_processes": limits.max_processes,
            },
            "uid": identity.uid,
            "exclusive": identity.exclusive,
            "max_chars": limits.max_output_chars,
        }
        if args_schema is not None:
            job["args_schema"] = args_schema
        return await _run(job, env, limits, identity, workdir)
    finally:
        remove_leftovers(identity)
        identity.release()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class _Child:
    """The tool's process and this side of its pipes, while it runs."""

    process: asyncio.subprocess.Process
    unowned: list[int]  # fds no transport has taken over yet: job, stdout, stderr, result
    feeder: asyncio.WriteTransport | None = None
    transports: list[asyncio.BaseTransport] = field(default_factory=list)
    connects: list["asyncio.Task[None]"] = field(default_factory=list)  # see `_connected`
    collectors: list["asyncio.Task[tuple[bytes, bool]]"] = field(default_factory=list)
    watchdog: "asyncio.Task[str] | None" = None


async def _run(
    job: dict[str, Any],
    env: dict[str, str],
    limits: SandboxLimits,
    identity: ToolIdentity,
    workdir: Path,
) -> SandboxResult:
    python, packages = interpreter(identity.uid is not None)
    child, result_fd = await _spawn(python, workdir, _child_env(workdir, packages, env))
    job["result_fd"] = result_fd  # the same number in the child (pass_fds keeps it)
    job["paths"] = list(packages)
    try:
        stopped = await _feed_and_wait(child, job, limits, workdir)
    finally:
        # Whatever happened (the call may have been cancelled), nothing of the tool survives.
        await _clean_up(child, identity)
    return _outcome(child, stopped, limits)


# What the sandbox sets itself in every tool's environment (see _child_env); an agent's own
# variables of these names are not passed on.
SANDBOX_VARIABLES = frozenset(
    {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
)


def _child_env(workdir: Path, packages: tuple[str, ...], env: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        # The runner adds these itself (-I ignores PYTHONPATH); Pythons the tool starts need it.
        "PYTHONPATH": os.pathsep.join(packages),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }


async def _spawn(python: str, workdir: Path, child_env: dict[str, str]) -> tuple[_Child, int]:
    """Start the runner. Pipes of our own, not asyncio's: in Python 3.11 Process.wait() also
    waits for its pipes to close, which a child the tool left behind (holding stdout) would
    delay to the timeout."""
    job_r, job_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    result_r, result_w = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            python,
            "-I",
            str(CHILD),
            stdin=job_r,
            stdout=out_w,
            stderr=err_w,
            cwd=workdir,
            env=child_env,
            pass_fds=(result_w,),
            start_new_session=True,  # one process group to kill, and no terminal
        )
    except BaseException:
        for fd in (job_w, out_r, err_r, result_r):
            os.close(fd)
        raise
    finally:
        for fd in (job_r, out_w, err_w, result_w):
            os.close(fd)
    return _Child(process, [job_w, out_r, err_r, result_r]), result_w


async def _feed_and_wait(
    child: _Child, job: dict[str, Any], limits: SandboxLimits, workdir: Path
) -> str:
    """Send the job, collect the outputs, and wait for the tool within its limits; why it
    was stopped, or "" if it ended by itself."""
    loop = asyncio.get_running_loop()
    job_pipe = os.fdopen(child.unowned.pop(0), "wb", 0)

    def feeder(transport: asyncio.BaseTransport) -> None:
        child.feeder = cast(asyncio.WriteTransport, transport)

    await _connected(child, loop.connect_write_pipe(asyncio.Protocol, job_pipe), feeder)
    assert child.feeder is not None
    child.feeder.write(json.dumps(job, default=str).encode())
    child.feeder.close()  # once the buffer is written: the runner reads to the end
    output_cap = limits.max_output_chars * 4  # bytes: UTF-8 takes up to 4 per character
    # JSON escapes a character in up to 12 bytes; the runner already clipped the value.
    for cap in (output_cap, output_cap, output_cap * 3 + 4096):
        reader = asyncio.StreamReader()
        pipe = os.fdopen(child.unowned.pop(0), "rb", buffering=0)
        protocol = functools.partial(asyncio.StreamReaderProtocol, reader)
        connecting = loop.connect_read_pipe(protocol, pipe)
        await _connected(child, connecting, child.transports.append)
        child.collectors.append(asyncio.create_task(_collect(reader, cap)))
    exited = asyncio.create_task(child.process.wait())
    watchdog = asyncio.create_task(watch_disk([workdir, *SHARED_TMP_DIRS], limits.max_disk_mb))
    child.watchdog = watchdog
    await asyncio.wait(
        {exited, watchdog}, timeout=limits.timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    if exited.done():
        return ""
    if watchdog.done():
        return watchdog.result()
    return (
        f"the tool timed out after {limits.timeout_s:g} s and was stopped; "
        "make it do less per call or raise the tool timeout"
    )


async def _connected(
    child: _Child,
    connecting: Awaitable[tuple[asyncio.BaseTransport, Any]],
    keep: Callable[[asyncio.BaseTransport], None],
) -> None:
    """Make a pipe's transport and `keep` it, whole even if the call is cancelled
    meanwhile: the making goes on in a task of its own (`_clean_up` waits for it and
    closes what it made). Cut in the middle, uvloop closes the pipe's fd itself and leaves
    the pipe's file object open, whose finalizer later closes the same number again: by then
    maybe another thread's new fd (a `subprocess.run` of `end_processes` lost its pipe to
    it: EBADF)."""

    async def make() -> None:
        transport, _ = await connecting
        keep(transport)

    task = asyncio.create_task(make())
    child.connects.append(task)
    await asyncio.shield(task)


async def _clean_up(child: _Child, identity: ToolIdentity) -> None:
    if child.connects:  # a transport still being made when the call was cancelled
        await asyncio.wait(child.connects)
        for connect in child.connects:  # a failure was raised to the call, if it waited
            if not connect.cancelled():
                connect.exception()  # retrieved: no "never retrieved" warning
    if child.watchdog is not None:
        child.watchdog.cancel()
    await end_processes(identity, child.process.pid)
    await child.process.wait()
    # Every copy of the pipes died with the processes, unless (not root) one escaped.
    if child.collectors:
        await asyncio.wait(child.collectors, timeout=DRAIN_GRACE_S)
    for task in child.collectors:
        task.cancel()
    for fd in child.unowned:
        os.close(fd)
    if child.feeder is not None and child.feeder.get_write_buffer_size():
        child.feeder.abort()  # the runner died before reading it all
    elif child.feeder is not None:
        child.feeder.close()  # closed already, unless the call was cancelled before
    for transport in child.transports:
        transport.close()


def _outcome(child: _Child, stopped: str, limits: SandboxLimits) -> SandboxResult:
    out, out_cut = _collected(child.collectors[0])
    err, err_cut = _collected(child.collectors[1])
    raw, _ = _collected(child.collectors[2])
    stdout = _text(out, out_cut, limits.max_output_chars)
    stderr = _text(err, err_cut, limits.max_output_chars)
    if stopped:
        return SandboxResult("error", stopped, stdout, stderr)
    try:
        outcome = json.loads(raw)
        status, value = outcome["status"], str(outcome["value"])
    except (ValueError, KeyError, TypeError):
        return SandboxResult("error", _died(child.process.returncode, stderr), stdout, stderr)
    if len(value) > limits.max_output_chars + 100:  # the runner clipped it (and said so)
        value = _text(value.encode(), False, limits.max_output_chars)
    raised, where = outcome.get("raised") == "yes", str(outcome.get("traceback") or "")
    return SandboxResult(
        "success" if status == "success" else "error",
        value,
        stdout,
        stderr,
        raised,
        where[: limits.max_output_chars],
    )


def _collected(task: "asyncio.Task[tuple[bytes, bool]]") -> tuple[bytes, bool]:
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result()
    return b"", False


async def _collect(reader: asyncio.StreamReader, max_bytes: int) -> tuple[bytes, bool]:
    """Read to the end, keeping the first `max_bytes`: a flood costs the server nothing."""
    kept = bytearray()
    cut = False
    while chunk := await reader.read(65536):
        room = max_bytes - len(kept)
        kept += chunk[: max(room, 0)]
        cut = cut or len(chunk) > room
    return bytes(kept), cut


async def watch_disk(paths: list[Path], budget_mb: int) -> str:
    """Return a reason once the free space of a filesystem the tool can write to has fallen
    by more than the budget since the call began (RLIMIT_FSIZE bounds one file, not many)."""
    start = _free_space(paths)
    while True:
        await asyncio.sleep(DISK_POLL_S)
        for device, (path, free) in _free_space(paths).items():
            if device in start and start[device][1] - free > budget_mb * MIB:
                return (
                    f"the tool was stopped for filling the disk: the free space of {path} "
                    f"fell by more than {budget_mb} MB while it ran"
                )


def _free_space(paths: list[Path]) -> dict[int, tuple[Path, int]]:
    """Free bytes per filesystem (by device), for the paths that exist."""
    free: dict[int, tuple[Path, int]] = {}
    for path in paths:
        with contextlib.suppress(OSError):
            device = os.stat(path).st_dev
            if device not in free:
                info = os.statvfs(path)
                free[device] = (path, info.f_bavail * info.f_frsize)
    return free


def _text(data: bytes, cut: bool, limit: int) -> str:
    text = data.decode(errors="replace")
    if len(text) > limit:
        text, cut = text[:limit], True
    return text + f"\n… (cut: longer than {limit} characters)" if cut else text


def _died(returncode: int | None, stderr: str) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = {
            "SIGXCPU": "it used up its CPU time limit",
            "SIGKILL": "it was killed, most likely because the machine ran out of memory",
            "SIGXFSZ": "it wrote a file larger than its file size limit",
        }.get(name, "it hit a limit or crashed")
        return f"the tool process was stopped by {name}: {hint}"
    last = stderr.strip().splitlines()[-1:] or ["no output"]
    return f"the tool process exited with code {returncode} before returning a result: {last[0]}"
