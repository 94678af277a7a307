"""What every benchmark stands on: a backend that hands out fresh databases, real `troupe
server` processes on them (the test suite's own launcher and PostgreSQL cluster), an async
HTTP client, and the statistics each benchmark reports."""

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks import models
from tests.support.postgres import PostgresCluster, create_database
from tests.support.servers import ServerProcess

SCRIPTED = "test/scripted"


def summary(samples: Sequence[float], digits: int = 2) -> dict[str, Any]:
    """Median and p95 (nearest rank) of a list of samples, with their count."""
    if not samples:
        return {"n": 0, "median": None, "p95": None}
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), digits),
        "p95": round(ordered[rank], digits),
    }


class Backend:
    """Fresh, empty databases of one kind, one per benchmark."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self._cluster: PostgresCluster | None = None
        self._admin_url = os.environ.get("TROUPE_TEST_POSTGRES_URL")

    def new_database(self) -> str:
        if self.name == "sqlite":
            folder = self.root / f"sqlite-{uuid.uuid4().hex[:8]}"
            folder.mkdir()
            return f"sqlite+aiosqlite:///{folder / 'troupe.db'}"
        if self._admin_url is None:
            self._cluster = PostgresCluster().start()
            self._admin_url = self._cluster.admin_url
        return create_database(self._admin_url)

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


@contextmanager
def backend(name: str) -> Iterator[Backend]:
    root = Path(tempfile.mkdtemp(prefix=f"troupe-bench-{name}-"))
    made = Backend(name, root)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Servers:
    """One or more troupe processes on one database; clients spread over them."""

    processes: list[ServerProcess]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def main(self) -> httpx.AsyncClient:
        return self.clients[0]

    def client(self, index: int) -> httpx.AsyncClient:
        return self.clients[index % len(self.clients)]

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the server processes have used so far: a
        figure that, unlike wall time, other load on the machine barely moves."""
        total = 0.0
        for proc in self.processes:
            assert proc.process is not None
            total += process_cpu_s(proc.process.pid)
        return total

    def rss_mb(self) -> float:
        """Resident memory of the first server process (the one agents were made through)."""
        process = self.processes[0].process
        assert process is not None
        return psutil.Process(process.pid).memory_info().rss / 2**20


# Set by the command line: a folder to write py-spy flame graphs of each server into.
PROFILE_DIR: Path | None = None


@asynccontextmanager
async def servers(
    bk: Backend, count: int = 1, env: dict[str, str] | None = None, label: str = "bench"
) -> AsyncIterator[Servers]:
    """Start `count` server processes on a new database, their models on the current model
    path; stop them afterwards."""
    env = {**models.CURRENT.env(), **(env or {})}
    url = bk.new_database()
    home = bk.root / f"home-{uuid.uuid4().hex[:8]}"
    home.mkdir()
    procs = [ServerProcess(url, home, env) for _ in range(count)]
    started: list[ServerProcess] = []
    profilers: list[Any] = []
    running = Servers(started)
    try:
        # One at a time: each migrates on start, and the first one creates the schema.
        for proc in procs:
            await asyncio.to_thread(proc.start)
            started.append(proc)
        if PROFILE_DIR is not None:
            profilers = [_profile(p, f"{label}-{bk.name}-{i}") for i, p in enumerate(started)]
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        running.clients = [
            httpx.AsyncClient(base_url=p.url, timeout=300, limits=limits) for p in started
        ]
        yield running
    except BaseException:
        for proc in started:  # the servers' own words on what went wrong, before they go
            tail = proc.log_path.read_text(errors="replace")[-3000:]
            print(f"--- {proc.log_path.name} (last lines) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        for client in running.clients:
            await client.aclose()
        for proc in started:
            await asyncio.to_thread(proc.stop)
        for profiler in profilers:
            profiler.wait(timeout=60)


def process_cpu_s(pid: int) -> float:
    """Another process's CPU seconds, all its threads (those gone included), to the
    nanosecond: Linux's CPU-time clock of that process. psutil's figure counts in clock
    ticks (10 ms), so a benchmark that adds up a few milliseconds per message, message by
    message, carried about 0.3 ms per message of rounding. Off Linux, psutil's figure."""
    try:
        return time.clock_gettime(((~pid) << 3) | _CPUCLOCK_SCHED)
    except OSError:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)


_CPUCLOCK_SCHED = 2  # Linux: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), see clock_getcpuclockid(3)


def _profile(proc: ServerProcess, name: str) -> Any:
    import subprocess

    assert PROFILE_DIR is not None
    assert proc.process is not None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            # Installed beside this interpreter by the bench extra, whatever PATH says.
            shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy",
            "record",
            "--pid",
            str(proc.process.pid),
            "--output",
            str(PROFILE_DIR / f"{name}.svg"),
            "--rate",
            "200",
            "--idle",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def checked(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    """The JSON of a 200 answer; anything else stops the benchmark with the server's words."""
    answer = await response
    if answer.status_code != 200:
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url.path} -> {answer.status_code}: "
            f"{answer.text[:500]}"
        )
    result: dict[str, Any] = answer.json()
    return result


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def agent_spec(model: str = "test/echo@0ms", **fields: Any) -> dict[str, Any]:
    """An agent as the benchmarks make it: two memory blocks and the base tools; its test
    model on the model path being measured (in process, or over HTTP: benchmarks/models.py)."""
    return {
        "name": unique("bench"),
        "model": models.handle(model),
        "memory_blocks": [
            {"label": "human", "value": "The human is benchmarking troupe."},
            {"label": "persona", "value": "I am a fast, terse assistant."},
        ],
        "include_base_tools": True,
        **fields,
    }


async def create_agents(
    client: httpx.AsyncClient, count: int, concurrency: int = 8, **fields: Any
) -> list[str]:
    """Create `count` agents with `concurrency` requests in flight; their ids in order."""
    ids: list[str] = [""] * count
    cursor = iter(range(count))

    async def worker() -> None:
        for index in cursor:
            agent = await checked(client.post("/v1/agents", json=agent_spec(**fields)))
            ids[index] = agent["id"]

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return ids


def user_message(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def send(client: httpx.AsyncClient, agent_id: str, text: str) -> dict[str, Any]:
    return await checked(client.post(f"/v1/agents/{agent_id}/messages", json=user_message(text)))


async def timed(work: Awaitable[Any]) -> tuple[float, Any]:
    """(milliseconds, result) of one awaited call."""
    started = time.perf_counter()
    result = await work
    return (time.perf_counter() - started) * 1000, result


async def run_durations_ms(client: httpx.AsyncClient, run_ids: Sequence[str]) -> list[float]:
    """Server-side time of each run (started -> completed, from the run's own record)."""
    durations: list[float] = []
    for run_id in run_ids:
        run = await checked(client.get(f"/v1/runs/{run_id}"))
        if run.get("total_duration_ns") is not None:
            durations.append(run["total_duration_ns"] / 1e6)
    return durations
