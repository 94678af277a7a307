"""CPU time of the HTTP layer alone around `POST /v1/agents/{agent_id}/messages`: the
middlewares, routing, body validation and the response's serialisation, with the turn
itself replaced by a fixed answer (one real turn's `LettaResponse`, captured first).

    python -m benchmarks.http_layer                  # in process (ASGI) and through uvicorn
    python -m benchmarks.http_layer --where asgi --profile   # plus cProfile's call count

`asgi` calls the application directly, as uvicorn would, with the request exactly as each
SDK line sends it (headers and body captured from letta-client 1.12.1 and 0.1.76), so it
measures troupe, Starlette and FastAPI. `uvicorn` serves the same application in a child
process on loopback, driven over one keep-alive connection, and reads that process's CPU
time: uvicorn's HTTP parsing and response writing included. Figures are CPU milliseconds
per request (user + system); on a shared machine compare runs made back to back.
"""

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psutil

AGENT = "agent-00000000-0000-0000-0000-000000000000"
BODY = b'{"messages":[{"role":"user","content":"hello there"}]}'
# What each SDK line sends besides the body, in its order (captured on a socket).
SDK_HEADERS = {
    "1.12.1": [
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"accept", b"application/json"),
        (b"content-type", b"application/json"),
        (b"user-agent", b"Letta/Python 1.12.1"),
        (b"x-stainless-lang", b"python"),
        (b"x-stainless-package-version", b"1.12.1"),
        (b"x-stainless-os", b"Linux"),
        (b"x-stainless-arch", b"x64"),
        (b"x-stainless-runtime", b"CPython"),
        (b"x-stainless-runtime-version", b"3.11.7"),
        (b"x-stainless-async", b"false"),
        (b"x-stainless-retry-count", b"0"),
        (b"x-stainless-read-timeout", b"60"),
    ],
    "0.1.76": [
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
        (b"connection", b"keep-alive"),
        (b"user-agent", b"python-httpx/0.28.1"),
        (b"x-fern-language", b"Python"),
        (b"x-fern-sdk-name", b"letta-client"),
        (b"x-fern-sdk-version", b"0.1.76"),
        (b"content-type", b"application/json"),
    ],
}
ROUNDS = 5  # each figure: the median and the least of five rounds (load only adds CPU)
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def scope_for(app: Any, line: str, path: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8283"), *SDK_HEADERS[line]]
    headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8283),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def call(app: App, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app: (status, body)."""
    sent: list[dict[str, Any]] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays: like uvicorn, never says more
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def stubbed_app(database_url: str) -> tuple[Any, Any, str]:
    """The real app, started, with one agent; `service.send` then answers that agent's first
    real turn for every request. Returns (app, lifespan context to exit, agent id)."""
    from troupe.config import Settings
    from troupe.server.app import create_app
    from troupe.services import messages as service

    app = create_app(Settings(database_url=database_url))
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    spec = json.dumps(
        {"name": "bench", "model": "test/echo@0ms", "include_base_tools": True}
    ).encode()
    status, answer = await call(app, scope_for(app, "1.12.1", "/v1/agents", spec), spec)
    assert status == 200, answer
    agent_id = json.loads(answer)["id"]
    path = f"/v1/agents/{agent_id}/messages"
    real_send = service.send
    captured: list[Any] = []

    async def capturing(*args: Any) -> Any:
        captured.append(await real_send(*args))
        return captured[0]

    service.send = capturing  # type: ignore[assignment]
    status, answer = await call(app, scope_for(app, "1.12.1", path, BODY), BODY)
    assert status == 200, answer

    async def fixed(*args: Any) -> Any:
        return captured[0]

    service.send = fixed  # type: ignore[assignment]
    return app, lifespan, agent_id


async def asgi_cpu_ms(requests: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, lifespan, agent_id = await stubbed_app(f"sqlite:///{tmp}/bench.db")
        path = f"/v1/agents/{agent_id}/messages"
        try:
            for line in SDK_HEADERS:
                scope = scope_for(app, line, path, BODY)
                for _ in range(200):
                    status, _ = await call(app, scope, BODY)
                    assert status == 200
                rounds = []
                for _ in range(ROUNDS):
                    started = time.process_time()
                    for _ in range(requests // ROUNDS):
                        await call(app, scope, BODY)
                    rounds.append((time.process_time() - started) * ROUNDS / requests)
                print(f"asgi     SDK {line:7}  {_figures(rounds)}")
                if profile:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(100):
                        await call(app, scope, BODY)
                    profiler.disable()
                    stats = pstats.Stats(profiler)
                    calls = stats.total_calls  # type: ignore[attr-defined]
                    print(f"         SDK {line:7}  {calls / 100:.0f} Python calls per request")
                    if os.environ.get("HTTP_LAYER_STATS"):
                        stats.sort_stats(os.environ["HTTP_LAYER_STATS"]).print_stats(40)
        finally:
            await lifespan.__aexit__(None, None, None)


def serve(port: int, folder: str, access_log: bool) -> None:
    """The child of `uvicorn_cpu_ms`: the stubbed app behind uvicorn as `troupe server`
    runs it; writes the agent's id to a file in `folder` when ready."""
    import uvicorn

    from troupe.cli.serving import uvicorn_options

    config = uvicorn.Config(None, **uvicorn_options("127.0.0.1", port, "info", access_log))
    config.lifespan = "off"  # started below, to capture the answer first
    profiling: list[cProfile.Profile] = []

    async def main() -> None:
        app, _, agent_id = await stubbed_app(f"sqlite:///{folder}/bench.db")
        config.app = app
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, lambda: _start_profile(profiling))
        loop.add_signal_handler(signal.SIGUSR2, lambda: _dump(profiling.pop(), folder))
        _announce(folder, agent_id)
        await uvicorn.Server(config).serve()

    # The event loop `troupe server` gets (uvloop where installed).
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())


def _announce(folder: str, agent_id: str) -> None:
    with open(f"{folder}/agent.tmp", "w") as file:
        file.write(agent_id)
    os.rename(f"{folder}/agent.tmp", f"{folder}/agent")


def _start_profile(profiling: list[cProfile.Profile]) -> None:
    profiling.append(cProfile.Profile())
    profiling[-1].enable()


def _dump(profiler: cProfile.Profile, folder: str) -> None:
    profiler.disable()
    profiler.dump_stats(f"{folder}/profile.tmp")
    os.rename(f"{folder}/profile.tmp", f"{folder}/profile")


def uvicorn_cpu_ms(requests: int, profile: bool, access_log: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.http_layer", "--serve", str(port), tmp]
            + (["--access-log"] if access_log else []),
            stdout=subprocess.DEVNULL,  # uvicorn's access log: written, as in a deployment
            stderr=subprocess.DEVNULL,
        )
        try:
            agent_id = _wait_for_file(f"{tmp}/agent")
            conn = _connect(port)
            process = psutil.Process(child.pid)
            for line in SDK_HEADERS:
                request = _request_bytes(line, agent_id)
                for _ in range(200):
                    _exchange(conn, request)
                rounds, system = [], 0.0
                for _ in range(ROUNDS):
                    before = process.cpu_times()
                    for _ in range(requests // ROUNDS):
                        _exchange(conn, request)
                    after = process.cpu_times()
                    rounds.append((sum(after[:2]) - sum(before[:2])) * ROUNDS / requests)
                    system += (after.system - before.system) / requests
                kernel = f"{system * 1000:.3f} ms of it in the kernel"
                print(f"uvicorn  SDK {line:7}  {_figures(rounds)} (server process; {kernel})")
                if profile:
                    _profile_child(child, conn, request, tmp)
            conn.close()
        finally:
            child.terminate()
            child.wait(10)


def _profile_child(
    child: subprocess.Popen[bytes], conn: socket.socket, request: bytes, folder: str
) -> None:
    child.send_signal(signal.SIGUSR1)
    time.sleep(0.2)  # the signal handled: the server is idle, waiting for a request
    for _ in range(100):
        _exchange(conn, request)
    child.send_signal(signal.SIGUSR2)
    _wait_for_file(f"{folder}/profile")
    stats = pstats.Stats(f"{folder}/profile")
    os.remove(f"{folder}/profile")
    calls = stats.total_calls  # type: ignore[attr-defined]
    print(f"         server: {calls / 100:.0f} Python calls per request")
    if os.environ.get("HTTP_LAYER_STATS"):
        stats.sort_stats(os.environ["HTTP_LAYER_STATS"]).print_stats(40)


def _wait_for_file(path: str) -> str:
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the benchmark's server wrote no {path}")
        time.sleep(0.05)
    with open(path, "rb") as file:
        return file.read().decode(errors="replace")


def _connect(port: int) -> socket.socket:
    """uvicorn binds its port just after the app has started: try until it listens."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _request_bytes(line: str, agent_id: str) -> bytes:
    head = [f"POST /v1/agents/{agent_id}/messages HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    head += [name + b": " + value for name, value in SDK_HEADERS[line]]
    head.append(b"content-length: " + str(len(BODY)).encode())
    return b"\r\n".join(head) + b"\r\n\r\n" + BODY


def _exchange(conn: socket.socket, request: bytes) -> None:
    """Send one request and read its whole answer (content-length framed)."""
    conn.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)


def _figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"{ms[len(ms) // 2]:.3f} ms CPU per request (least {ms[0]:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_layer", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--where", choices=["asgi", "uvicorn", "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="count Python calls per request")
    parser.add_argument(
        "--access-log", action="store_true", help="uvicorn with its access log (at info)"
    )
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], args.access_log)
        return
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.where in ("asgi", "both"):
        asyncio.run(asgi_cpu_ms(args.requests, args.profile))
    if args.where in ("uvicorn", "both"):
        uvicorn_cpu_ms(args.requests, args.profile, args.access_log)


if __name__ == "__main__":
    main()
