"""Which models the benchmarks' agents talk to. `in-process`: troupe's own test models
(`test/echo@0ms`, ...), which skip the provider adapters. `openai` and `anthropic`: the
same behaviours served over HTTP by the fake servers of `benchmarks/model_server.py`, each
in its own process on 127.0.0.1, and reached through troupe's real adapters and the vendor
SDKs: the path real agents take. Cases name test handles; `handle()` maps them to the path
being measured, and `servers()` in the harness points troupe at the fake servers."""

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

PATHS = ("in-process", "openai", "anthropic")
HTTP_PATHS = PATHS[1:]
REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_ROUTES = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


class FakeModelServer:
    """One `python -m benchmarks.model_server` process speaking one vendor's wire format."""

    def __init__(self, wire: str) -> None:
        self.wire = wire
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "FakeModelServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.model_server", "--wire", self.wire],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fake {self.wire} server did not start: {line!r}")
        self.port = int(line.split()[-1])
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What tells a troupe server to send this vendor's requests here."""
        if self.wire == "openai":
            return {"OPENAI_BASE_URL": f"{self.url}/v1", "OPENAI_API_KEY": "sk-bench"}
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": "sk-bench"}

    def cpu_s(self) -> float:
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    async def stats(self) -> dict[str, Any]:
        """Requests answered since the last reset, and the server's own time for each."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            stats: dict[str, Any] = (await client.get("/stats")).json()
        return stats

    async def reset(self) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            await client.post("/stats/reset")

    @asynccontextmanager
    async def direct_line(self) -> AsyncIterator["DirectLine"]:
        """One kept-alive connection to this server, warmed up with the last request troupe
        sent it, for a benchmark's requests sent straight to it between troupe's."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            line = DirectLine(client, MODEL_ROUTES[self.wire])
            body = await line.last_request()
            for _ in range(5):  # the connection and both sides' code warmed up
                await line.direct_ms(body)
            yield line


class DirectLine:
    """Requests straight to a fake model server over one connection: what troupe last sent
    it, and the same request again, timed (the model's own time for it, client included).
    One line for a whole benchmark: a client made for each message, and five requests to
    warm each one up, put six requests of a full window's 32 KB and two connections through
    the machine between every two of troupe's messages, and troupe ran its next one on
    caches the more cold for it."""

    def __init__(self, client: httpx.AsyncClient, route: str) -> None:
        self.client = client
        self.route = route

    async def last_request(self) -> bytes:
        return (await self.client.get("/last-request")).content

    async def direct_ms(self, body: bytes) -> float:
        headers = {"content-type": "application/json"}
        started = time.perf_counter()
        answer = await self.client.post(self.route, content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        return round(elapsed, 2)


class ModelPath:
    """The path being measured: its name and, over HTTP, its fake server."""

    def __init__(self, name: str, server: FakeModelServer | None = None) -> None:
        self.name = name
        self.server = server

    def handle(self, test_handle: str) -> str:
        """`test/echo@0ms` on this path: unchanged in process, `openai/echo@0ms` over the
        fake OpenAI-compatible server, and so on (the fake servers know echo and scripted)."""
        if self.server is None or not test_handle.startswith("test/"):
            return test_handle
        return f"{self.name}/{test_handle.removeprefix('test/')}"

    def env(self) -> dict[str, str]:
        return self.server.env() if self.server is not None else {}


CURRENT = ModelPath("in-process")


def handle(test_handle: str) -> str:
    return CURRENT.handle(test_handle)


@contextmanager
def fake_servers(paths: list[str]) -> Iterator[dict[str, ModelPath]]:
    """The fake model servers the paths need, started once for the whole run."""
    started: list[FakeModelServer] = []
    try:
        found: dict[str, ModelPath] = {}
        for name in paths:
            server = FakeModelServer(name).start() if name in HTTP_PATHS else None
            if server is not None:
                started.append(server)
            found[name] = ModelPath(name, server)
        yield found
    finally:
        for server in started:
            server.stop()


@contextmanager
def on_path(path: ModelPath) -> Iterator[ModelPath]:
    """Run the cases inside on `path`."""
    global CURRENT
    previous, CURRENT = CURRENT, path
    try:
        yield path
    finally:
        CURRENT = previous


async def settle() -> None:
    """Let a fake server finish answering before its stats are read."""
    await asyncio.sleep(0.05)
