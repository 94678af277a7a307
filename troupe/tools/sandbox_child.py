"""Runs inside the sandbox process (standard library only; started with `python -I`).

Reads the job as JSON on stdin: {source, function, arguments, limits, uid, exclusive,
result_fd, paths, max_chars; args_schema for a tool that has one}. Applies the resource
limits, drops root to the tool's own user id, runs the function and writes the outcome as
JSON to a pipe of its own (`result_fd`), never to stdout: nothing the tool prints can pass
for its result."""

import contextlib
import inspect
import json
import linecache
import os
import resource
import sys
import traceback
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

TOOL_FILE = "<tool>"
# Makes the classes of a tool's args_json_schema; loaded (pydantic with it) only for a tool
# that has one.
MODELS_FILE = Path(__file__).with_name("sandbox_models.py")
MIB = 1024 * 1024
PR_SET_DUMPABLE = 4
KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    result_fd: int = job["result_fd"]
    os.set_inheritable(result_fd, False)  # programs the tool runs do not get the channel
    # Opened while still root: the server's packages may sit under a folder the tool's user
    # cannot enter (a checkout in a 0700 home or temporary folder).
    package_dirs = open_dirs(job.get("paths", []))
    models_source = MODELS_FILE.read_text() if "args_schema" in job else None
    try:
        confine(job["limits"], job.get("uid"), exclusive=job.get("exclusive", False))
    except (OSError, ValueError) as exc:
        # Never run user code with more rights than planned: fail the call instead.
        report(
            result_fd,
            failure(
                f"the sandbox could not confine the tool ({exc}); a root server needs the "
                "right to switch user ids (CAP_SETUID), else run the server as a plain user"
            ),
        )
        os._exit(0)
    sys.path.extend(p for p in reachable(package_dirs) if p not in sys.path)
    outcome = run(job, models_source)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    outcome["value"] = clip(outcome["value"], job.get("max_chars", 100_000))
    report(result_fd, outcome)
    # Leave at once: threads the tool left running must not keep the call open.
    os._exit(0)


def confine(limits: dict[str, int], uid: int | None, *, exclusive: bool) -> None:
    """Resource limits (hard = soft, so the tool cannot raise them), then the user switch."""
    with contextlib.suppress(OSError):
        # Should memory run out machine-wide, the kernel's OOM killer takes tools first.
        Path("/proc/self/oom_score_adj").write_text("1000")
    with contextlib.suppress(OSError):
        os.nice(10)  # a busy tool yields the CPU to the server
    cap(resource.RLIMIT_AS, limits["memory_mb"] * MIB)
    cap(resource.RLIMIT_CPU, limits["cpu_s"], limits["cpu_s"] + 1)
    cap(resource.RLIMIT_FSIZE, limits["max_file_mb"] * MIB)
    cap(resource.RLIMIT_CORE, 0)
    target = os.getuid() if uid is None else uid
    # The kernel counts RLIMIT_NPROC over ALL tasks of the user id: a fresh id of the pool
    # has none; a shared one (ours, nobody) gets its current count on top.
    already = 0 if exclusive else tasks_of(target)
    cap(resource.RLIMIT_NPROC, already + limits["max_processes"])
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise OSError(f"still running as uid {os.getuid()} after switching to {uid}")


def open_dirs(paths: list[str]) -> dict[str, int]:
    """A descriptor of each folder that exists, by path."""
    found = {}
    for path in paths:
        with contextlib.suppress(OSError):
            found[path] = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    return found


def reachable(package_dirs: dict[str, int]) -> list[str]:
    """The package folders as the tool's user can reach them: by their path where it may
    enter every folder above, else through the descriptor opened as root (/proc/self/fd/N
    leads to the folder itself, whatever is above it). That needs /proc/self to be the
    tool's own, which the kernel withholds from a process that switched user ids until it
    is marked dumpable again (its memory holds nothing but this call's job)."""
    paths = []
    for path, fd in package_dirs.items():
        if os.access(path, os.R_OK | os.X_OK):
            paths.append(path)
            os.close(fd)
            continue
        mark_dumpable()
        paths.append(f"/proc/self/fd/{fd}")
    return paths


def mark_dumpable() -> None:
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)


def cap(kind: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit; never above the hard limit we already have (only root may raise it)."""
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


def tasks_of(uid: int) -> int:
    """How many tasks (threads count) run as `uid` now, as RLIMIT_NPROC counts them."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = dict(
                line.split(":", 1) for line in Path(entry.path, "status").read_text().splitlines()
            )
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
    return count


def run(job: dict[str, Any], models_source: str | None = None) -> dict[str, str]:
    source, name, arguments = job["source"], job["function"], job["arguments"]
    # Registered so tracebacks can quote the tool's own lines.
    linecache.cache[TOOL_FILE] = (len(source), None, source.splitlines(keepends=True), TOOL_FILE)
    namespace: dict[str, Any] = {"__name__": "__tool__"}
    models = None
    if models_source is not None:
        models, problem = argument_models(models_source, job["args_schema"])
        if models is None:
            return failure(problem)
        namespace.update(models.namespace)  # the source's annotations name them
    try:
        exec(compile(source, TOOL_FILE, "exec"), namespace)
        function = namespace.get(name)
        if not callable(function):
            return failure(
                f"the tool's source defines no function {name!r}: "
                f"define `def {name}(...)` at the top level of the source"
            )
        if models is not None:
            try:
                arguments = models.with_own_classes(namespace).validate(arguments)
            except models.Unfit as exc:
                return failure(str(exc))
        arguments = with_agent_state(function, arguments, job.get("agent"))
        problem = argument_problem(function, name, arguments)
        if problem:
            return failure(problem)
        value = function(**arguments)
        if inspect.isawaitable(value):
            import asyncio  # only for async tools: it is most of the start-up time

            value = asyncio.run(awaited(value))
        return {"status": "success", "value": as_text(value)}
    except MemoryError as exc:
        limit = job["limits"]["memory_mb"]
        return raised(exc, f"MemoryError: the tool ran out of memory ({limit} MB)")
    except BaseException as exc:
        return raised(exc)


def argument_models(models_source: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """The classes of the tool's args_json_schema (a sandbox_models.ArgumentModels), or None
    and why they could not be made."""
    module = types.ModuleType("troupe_sandbox_models")
    try:
        exec(compile(models_source, str(MODELS_FILE), "exec"), module.__dict__)
        models = module.ArgumentModels(schema)
    except Exception as exc:
        return None, (
            "the tool's args_json_schema could not be made into classes "
            f"({type(exc).__name__}: {exc}); fix the schema"
        )
    return models, ""


class AgentState:
    """Letta's reserved `agent_state` argument, as far as troupe hands it to a tool: the
    calling agent's `id` and `name`. The rest of the agent is read from the server with the
    credentials in the tool's environment (LETTA_BASE_URL, LETTA_API_KEY)."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"troupe's agent_state holds only id and name, not {name!r}; read the agent with "
            "Letta(base_url=os.environ['LETTA_BASE_URL'], api_key=os.environ['LETTA_API_KEY'])"
            ".agents.retrieve(agent_state.id)"
        )

    def __repr__(self) -> str:
        return f"AgentState(id={self.__dict__.get('id')!r}, name={self.__dict__.get('name')!r})"


def with_agent_state(
    function: Callable[..., Any], arguments: dict[str, Any], agent: dict[str, str] | None
) -> dict[str, Any]:
    """A function naming Letta's reserved `agent_state` parameter gets the calling agent
    there, whatever the model sent (the parameter is kept out of the tool's schema)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return arguments
    if "agent_state" not in parameters:
        return arguments
    return {**arguments, "agent_state": AgentState(agent) if agent else None}


def argument_problem(function: Callable[..., Any], name: str, arguments: dict[str, Any]) -> str:
    """'' when the arguments fit the function's signature, else what is wrong with them."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return ""  # a builtin or C function: let the call itself complain
    try:
        signature.bind(**arguments)
        return ""
    except TypeError as exc:
        reason = str(exc)
    params = list(signature.parameters.values())
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    named = [p.name for p in params if p.kind in KEYWORD_KINDS]
    unknown = [] if takes_any else [a for a in arguments if a not in named]
    missing = [
        p.name
        for p in params
        if p.default is p.empty and p.kind in KEYWORD_KINDS and p.name not in arguments
    ]
    parts = []
    if unknown:
        parts.append("unexpected argument(s) " + ", ".join(map(repr, unknown)))
    if missing:
        parts.append("missing required argument(s) " + ", ".join(map(repr, missing)))
    return (
        f"wrong arguments for the tool {name}{signature}: {'; '.join(parts) or reason}. "
        f"Call it again with the arguments its signature names."
    )


async def awaited(value: Awaitable[Any]) -> Any:
    return await value


def as_text(value: Any) -> str:
    """str() of the result; JSON for dicts and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        with contextlib.suppress(TypeError, ValueError):
            return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def raised(exc: BaseException, head: str | None = None) -> dict[str, str]:
    """An exception of the tool: its type and message as the value (Letta's tools answer
    with these), and the last few frames of the tool's own code as its traceback."""
    if head is None:
        head = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, SyntaxError) and exc.text:  # quote the line and point at the error
            head += f"\n    {exc.text.rstrip()}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == TOOL_FILE]
    where = "".join(traceback.format_list(frames[-5:])).rstrip()
    text = f"Traceback of the tool's code (most recent call last):\n{where}" if frames else ""
    return {**failure(head), "raised": "yes", "traceback": text}


def failure(text: str) -> dict[str, str]:
    return {"status": "error", "value": text}


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… (cut: the result was longer than {limit} characters)"


def report(result_fd: int, outcome: dict[str, str]) -> None:
    data = json.dumps(outcome).encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(result_fd, data) :]
        os.close(result_fd)


if __name__ == "__main__":
    main()
