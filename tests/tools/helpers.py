"""Running tools in the real sandbox, and finding the processes they leave (or not)."""

import contextlib
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import psutil

from troupe.tools.sandbox import SandboxLimits, SandboxResult, run_tool_in_sandbox

OnLoop = Callable[[Coroutine[Any, Any, Any]], Any]


class Sandbox(Protocol):
    def __call__(self, source: str, function: str = "f", **kwargs: Any) -> SandboxResult: ...


FAST = SandboxLimits(timeout_s=5, memory_mb=256, max_processes=32)
IS_ROOT = os.geteuid() == 0


async def run(
    source: str,
    function: str = "f",
    *,
    limits: SandboxLimits = FAST,
    env: dict[str, str] | None = None,
    **arguments: object,
) -> SandboxResult:
    return await run_tool_in_sandbox(
        source_code=source,
        function_name=function,
        arguments=arguments,
        env=env if env is not None else {"TROUPE_AGENT_ID": "agent-test"},
        limits=limits,
    )


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (killed, not yet reaped by its new parent)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def living(*, pgid: int | None = None, uid: int | None = None) -> list[int]:
    """Live processes in a process group, or of a user id."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if pgid is not None and os.getpgid(process.pid) != pgid:
                continue
            if uid is not None and process.uids().real != uid:
                continue
            if alive(process.pid):
                found.append(process.pid)
    return found


def settle(check: Callable[[], object], within: float = 5.0) -> None:
    """Give SIGKILL a moment to take effect before looking (not a speed assertion)."""
    for _ in range(int(within / 0.05)):
        if not check():
            return
        time.sleep(0.05)
