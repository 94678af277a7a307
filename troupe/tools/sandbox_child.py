"""Runs inside the sandbox process (standard library only; started with `python -I`).

Reads {source, function, arguments, limits, uid} as JSON on stdin, applies resource limits,
drops root to an unprivileged user when it has it, runs the function and writes the outcome
as JSON to a pipe of its own (`result_fd`), not stdout: the tool's prints never mix with it."""

import asyncio
import inspect
import json
import os
import resource
import sys
import traceback


def apply_limits(limits: dict[str, int]) -> None:
    mib = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file_mb"] * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["max_processes"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges(uid: int | None) -> None:
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main() -> None:
    job = json.loads(sys.stdin.read())
    result_fd = job["result_fd"]
    sys.path.extend(p for p in job.get("paths", []) if p not in sys.path)
    apply_limits(job["limits"])
    drop_privileges(job.get("uid"))
    outcome: dict[str, str]
    try:
        namespace: dict[str, object] = {"__name__": "__tool__"}
        exec(compile(job["source"], "<tool>", "exec"), namespace)
        function = namespace.get(job["function"])
        if not callable(function):
            raise NameError(f"the tool source defines no function {job['function']!r}")
        value = function(**job["arguments"])
        if inspect.isawaitable(value):
            value = asyncio.run(value)
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        outcome = {"status": "success", "value": text}
    except MemoryError:
        outcome = {"status": "error", "value": "MemoryError: the tool ran out of memory"}
    except BaseException as exc:
        frames = [
            frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == "<tool>"
        ]
        where = f" (line {frames[-1].lineno})" if frames else ""
        outcome = {"status": "error", "value": f"{type(exc).__name__}: {exc}{where}"}
    sys.stdout.flush()
    sys.stderr.flush()
    with os.fdopen(result_fd, "w") as channel:
        channel.write(json.dumps(outcome))


if __name__ == "__main__":
    main()
