"""Run user tools in a separate, limited process.

Each call gets a fresh process (`python -I`, its own session so the whole process group can be
killed), a fresh temporary directory as cwd and HOME, rlimits on memory, CPU, file size and
process count, and an environment built from nothing: the server's secrets (model keys,
database URL, API key) are not in it. When the server runs as root the tool runs as `nobody`,
so it cannot read the server's files or /proc/<server>/environ either."""

import asyncio
import contextlib
import functools
import json
import os
import pwd
import shutil
import signal
import stat
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

CHILD = Path(__file__).with_name("sandbox_child.py")


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 30.0
    cpu_s: int = 30
    memory_mb: int = 512
    # Counted per user: tools run as `nobody` (when the server is root) share this budget.
    max_processes: int = 64
    max_file_mb: int = 16
    max_output_chars: int = 100_000


@dataclass(frozen=True)
class SandboxResult:
    status: Literal["success", "error"]
    return_value: str
    stdout: str
    stderr: str


def _unprivileged_uid() -> int | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return None


def _world_readable(path: Path) -> bool:
    """Whether any user can read `path` (and get to it)."""
    try:
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


@functools.cache
def _interpreter(dropping_privileges: bool) -> tuple[str, list[str]]:
    """The Python to run tools with, and the package folders it must add to its path.

    Ours, unless tools run as `nobody` and cannot read our standard library (a Python
    installed under /root, say): then a world-readable Python of the same version, given our
    site-packages so tools still find what the server has installed."""
    packages = list(dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")))
    if not dropping_privileges or _world_readable(Path(sysconfig.get_paths()["stdlib"]) / "os.py"):
        return sys.executable, packages
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder in ("/usr/local/bin", "/usr/bin"):
        candidate = Path(folder) / version
        if candidate.is_file() and _world_readable(candidate):
            return str(candidate), packages
    return sys.executable, packages  # imports beyond what is preloaded may fail; see README


async def run_tool_in_sandbox(
    *,
    source_code: str,
    function_name: str,
    arguments: dict[str, Any],
    env: dict[str, str],
    limits: SandboxLimits = SandboxLimits(),
) -> SandboxResult:
    workdir = Path(tempfile.mkdtemp(prefix="troupe-tool-"))
    uid = _unprivileged_uid()
    python, packages = _interpreter(uid is not None)
    if uid is not None:
        os.chown(workdir, uid, uid)
    read_fd, write_fd = os.pipe()
    job = {
        "source": source_code,
        "function": function_name,
        "arguments": arguments,
        "limits": {
            k: v for k, v in asdict(limits).items() if k not in {"timeout_s", "max_output_chars"}
        },
        "uid": uid,
        "result_fd": write_fd,
        "paths": packages,
    }
    child_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    try:
        process = await asyncio.create_subprocess_exec(
            python,
            "-I",
            str(CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env=child_env,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
        os.close(write_fd)
        write_fd = -1
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(json.dumps(job).encode()), limits.timeout_s
            )
        except TimeoutError:
            _kill_group(process.pid)
            await process.wait()
            return SandboxResult(
                "error", f"the tool timed out after {limits.timeout_s:g} s and was stopped", "", ""
            )
        finally:
            _kill_group(process.pid)  # children the tool left behind go too
        raw = await asyncio.to_thread(_read_all, read_fd)
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        with contextlib.suppress(OSError):
            os.close(read_fd)
        shutil.rmtree(workdir, ignore_errors=True)
    out = _clip(stdout.decode(errors="replace"), limits.max_output_chars)
    err = _clip(stderr.decode(errors="replace"), limits.max_output_chars)
    try:
        outcome = json.loads(raw)
    except json.JSONDecodeError:
        return SandboxResult("error", _died(process.returncode, err), out, err)
    status = "success" if outcome.get("status") == "success" else "error"
    return SandboxResult(
        status, _clip(str(outcome.get("value", "")), limits.max_output_chars), out, err
    )


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _died(returncode: int | None, stderr: str) -> str:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        hint = {
            "SIGXCPU": "it used up its CPU time",
            "SIGKILL": "it was killed",
            "SIGXFSZ": "it wrote too large a file",
        }
        return f"the tool process was stopped by {name} ({hint.get(name, 'a limit was hit')})"
    last = stderr.strip().splitlines()[-1:] or ["no output"]
    return f"the tool process exited with code {returncode} before returning: {last[0]}"


def _clip(text: str, limit: int) -> str:
    return (
        text
        if len(text) <= limit
        else text[:limit] + f"\n… ({len(text) - limit} more characters cut)"
    )
