"""The nine benchmarks (the mailbox's wake latency in benchmarks/wake.py). Each takes a
backend and a scale, starts its own servers on a new database, and returns
{"settings": ..., metrics...}; medians and p95s come from `summary`."""

import ast
import asyncio
import contextlib
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import models, summaries, tracing, wake
from benchmarks.harness import (
    SCRIPTED,
    Backend,
    Servers,
    agent_spec,
    checked,
    create_agents,
    run_durations_ms,
    send,
    servers,
    summary,
    timed,
    unique,
)
from benchmarks.reference import reference_cpu_ms


@dataclass(frozen=True)
class Scale:
    step_messages: int = 300
    created_agents: int = 500
    broadcast_sizes: tuple[int, ...] = (5, 20, 100)
    broadcast_repeats: int = 5
    throughput_agents: int = 1000
    throughput_clients: int = 32
    throughput_seconds: float = 10.0
    throughput_processes: tuple[int, ...] = (1, 2, 4)
    idle_agents: int = 10_000
    history_long: int = 10_000
    history_messages: int = 150
    contention_writers: int = 20
    contention_appends_each: int = 25
    window_fill: int = 110  # 100 exchanges fill the 200-row window: 300 messages in context
    window_messages: int = 200
    window_runs: int = 5
    broadcast_fresh_starts: int = 3
    wake_sends: int = 50


FULL = Scale()
QUICK = Scale(
    step_messages=60,
    created_agents=100,
    broadcast_sizes=(5, 20),
    broadcast_repeats=2,
    throughput_agents=100,
    throughput_seconds=3.0,
    throughput_processes=(1, 2),
    idle_agents=1000,
    history_long=1000,
    history_messages=40,
    contention_appends_each=5,
    window_messages=40,
    window_runs=1,
    broadcast_fresh_starts=1,
    wake_sends=10,
)
WARMUP = 10


async def step_overhead(bk: Backend, scale: Scale) -> dict[str, Any]:
    """One user message -> one 0 ms model call -> the reply, one message at a time."""
    async with servers(bk, label="step") as s:
        (agent_id,) = await create_agents(s.main, 1)
        for i in range(WARMUP):
            await send(s.main, agent_id, f"warm-up {i}")
        latencies, run_ids = [], []
        cpu_before = s.cpu_s()
        for i in range(scale.step_messages):
            ms, answer = await timed(send(s.main, agent_id, f"message {i}"))
            latencies.append(ms)
            run_ids.append(answer["messages"][-1]["run_id"])
        cpu_ms = (s.cpu_s() - cpu_before) * 1000 / scale.step_messages
        server_ms = await run_durations_ms(s.main, run_ids)
    return {
        "settings": {"messages": scale.step_messages, "model": "test/echo@0ms", "clients": 1},
        "round_trip_ms": summary(latencies),
        "server_run_ms": summary(server_ms),
        "server_cpu_ms_per_message": round(cpu_ms, 2),
    }


async def full_window(bk: Backend, scale: Scale) -> dict[str, Any]:
    """One agent whose context window is full (the newest 200 rows: 100 exchanges, so 300
    messages of history go to the model at every step), then messages one at a time. Over
    HTTP, each message's model request is then sent again straight to the fake server: the
    model's own time for the same request, under the same load, to set the round trip
    against.

    `window_runs` times, each on a fresh server and database: this machine's speed moves by
    a quarter from one minute to the next (a virtual machine sharing its cores), so one run
    is one draw. The figures are over all runs' messages (server CPU: the median of the
    runs'), each run's own figures are kept, with the CPU time of a fixed piece of Python
    measured just before it (`reference.py`), which shows the machine's speed at that
    moment."""
    runs = [await _window_run(bk, scale) for _ in range(scale.window_runs)]
    cpu = [run.pop("cpu_ms_per_message") for run in runs]
    result: dict[str, Any] = {
        "settings": {
            "filled_with": scale.window_fill,
            "messages": scale.window_messages,
            "runs": scale.window_runs,
            "model": models.handle("test/echo@0ms"),
        },
        "round_trip_ms": summary([ms for run in runs for ms in run.pop("latencies")]),
        "server_run_ms": summary([ms for run in runs for ms in run.pop("server_ms")]),
        "server_cpu_ms_per_message": round(statistics.median(cpu), 2),
    }
    direct = [run.pop("direct") for run in runs]
    if models.CURRENT.server is not None:
        result["request"] = runs[-1]["request"]
        result["model_direct_ms"] = summary([ms for each in direct for ms in each])
        result["round_trip_minus_direct_ms"] = summary(
            [ms for run in runs for ms in run.pop("minus_direct")]
        )
    result["runs"] = [
        {"server_cpu_ms_per_message": round(ms, 2), **run}
        for ms, run in zip(cpu, runs, strict=True)
    ]
    return result


async def _window_run(bk: Backend, scale: Scale) -> dict[str, Any]:
    server = models.CURRENT.server
    reference = reference_cpu_ms()
    async with servers(bk, label="window") as s:
        (agent_id,) = await create_agents(s.main, 1)
        for i in range(scale.window_fill):
            await send(s.main, agent_id, f"filling the window {i}")
        async with contextlib.AsyncExitStack() as stack:
            line = None if server is None else await stack.enter_async_context(server.direct_line())
            latencies: list[float] = []
            direct: list[float] = []
            run_ids = []
            cpu_s = 0.0
            body = b""
            for i in range(scale.window_messages):
                cpu_before = s.cpu_s()
                ms, answer = await timed(send(s.main, agent_id, f"message {i}"))
                cpu_s += s.cpu_s() - cpu_before
                latencies.append(ms)
                run_ids.append(answer["messages"][-1]["run_id"])
                if line is not None:
                    body = await line.last_request()
                    direct.append(await line.direct_ms(body))
        server_ms = await run_durations_ms(s.main, run_ids)
    run: dict[str, Any] = {
        "cpu_ms_per_message": cpu_s * 1000 / scale.window_messages,
        "reference_cpu_ms": reference,
        "latencies": latencies,
        "server_ms": server_ms,
        "direct": direct,
    }
    if server is not None:
        minus_direct = [a - b for a, b in zip(latencies, direct, strict=True)]
        run["round_trip_minus_direct_ms_median"] = round(statistics.median(minus_direct), 2)
        run["minus_direct"] = minus_direct
        run["request"] = _request_size(body)
    return run


def _request_size(body: bytes) -> dict[str, int]:
    """How big the last model request was: its bytes and the messages in it (Anthropic's
    merged turns counted by their content blocks, plus the system prompt)."""
    request = json.loads(body)
    if "system" not in request:
        return {"bytes": len(body), "messages": len(request["messages"])}
    blocks = sum(len(m["content"]) for m in request["messages"])
    return {"bytes": len(body), "messages": 1 + blocks}


async def agent_creation(bk: Backend, scale: Scale) -> dict[str, Any]:
    """POST /v1/agents with two blocks and the base tools, eight requests in flight."""
    concurrency = 8
    async with servers(bk, label="create") as s:
        await create_agents(s.main, WARMUP)
        latencies: list[float] = []
        cursor = iter(range(scale.created_agents))

        async def worker() -> None:
            for _ in cursor:
                ms, _ = await timed(checked(s.main.post("/v1/agents", json=agent_spec())))
                latencies.append(ms)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "settings": {"agents": scale.created_agents, "concurrency": concurrency},
        "agents_per_s": round(scale.created_agents / wall, 1),
        "request_ms": summary(latencies),
    }


BROADCAST_TOOL = "send_message_to_agents_matching_all_tags"
BROADCAST_LATENCY_MS = 200
BROADCAST_IDEAL_S = 3 * BROADCAST_LATENCY_MS / 1000  # supervisor's 2 calls + 1 worker call


async def broadcast(bk: Backend, scale: Scale) -> dict[str, Any]:
    """A supervisor broadcasts to N workers (all with a 200 ms model) and then replies, on a
    freshly started server each time round: its first broadcast apart from the later ones."""
    results: dict[str, Any] = {}
    for size in scale.broadcast_sizes:
        firsts: list[float] = []
        later: list[float] = []
        for _ in range(scale.broadcast_fresh_starts):
            async with servers(bk, label=f"broadcast{size}") as s:
                supervisor, text = await _team(s, size)
                for repeat in range(scale.broadcast_repeats):
                    ms, answer = await timed(send(s.main, supervisor, text))
                    _check_broadcast(answer, size)
                    (later if repeat else firsts).append(ms / 1000 / BROADCAST_IDEAL_S)
        results[f"n{size}"] = {
            "workers": size,
            "first_ratio": summary(firsts),
            "ratio": summary(later),
        }
    return {
        "settings": {
            "model_latency_ms": BROADCAST_LATENCY_MS,
            "ideal_s": BROADCAST_IDEAL_S,
            "fresh_servers": scale.broadcast_fresh_starts,
            "repeats": scale.broadcast_repeats,
        },
        **results,
    }


async def _team(s: Servers, size: int) -> tuple[str, str]:
    """A supervisor and `size` workers with one tag; the supervisor's id and the message that
    makes it broadcast to them and then reply."""
    latency = f"@{BROADCAST_LATENCY_MS}ms"
    team = unique("team")
    supervisor = await checked(
        s.main.post(
            "/v1/agents",
            json=agent_spec(SCRIPTED + latency, tools=[BROADCAST_TOOL], tags=[team]),
        )
    )
    await create_agents(s.main, size, model="test/echo" + latency, tags=[team, "worker"])
    text = "SCRIPT: " + json.dumps(
        [
            {"tool": BROADCAST_TOOL, "args": {"message": "go", "tags": [team, "worker"]}},
            {"tool": "send_message", "args": {"message": "all done"}},
        ]
    )
    return supervisor["id"], text


def _check_broadcast(answer: dict[str, Any], size: int) -> None:
    returns = [m for m in answer["messages"] if m["message_type"] == "tool_return_message"]
    entries = ast.literal_eval(returns[0]["tool_return"]) if returns else []
    replied = [e for e in entries if "response" in e]
    if len(replied) != size:
        raise RuntimeError(f"broadcast to {size} workers got {len(replied)} replies: {entries}")


async def throughput(bk: Backend, scale: Scale) -> dict[str, Any]:
    """32 clients send messages round-robin over many agents for a fixed time; more than one
    troupe process only on PostgreSQL (SQLite is one process's database)."""
    processes = scale.throughput_processes if bk.name == "postgres" else (1,)
    results: dict[str, Any] = {}
    for count in processes:
        async with servers(bk, count=count, label=f"throughput{count}") as s:
            agents = await create_agents(s.main, scale.throughput_agents)
            results[f"processes_{count}"] = await _load(
                s, agents, scale.throughput_clients, scale.throughput_seconds
            )
    return {
        "settings": {
            "agents": scale.throughput_agents,
            "clients": scale.throughput_clients,
            "seconds": scale.throughput_seconds,
            "model": "test/echo@0ms",
        },
        **results,
    }


async def _load(s: Servers, agents: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """`clients` loops, each on one server of `s`, sending to the agents in turn, for
    `seconds` after a one-second warm-up."""
    counter = itertools.count()
    latencies: list[float] = []
    warm_until = time.perf_counter() + 1.0
    stop_at = warm_until + seconds

    async def client(number: int) -> None:
        while time.perf_counter() < stop_at:
            index = next(counter)
            agent_id = agents[index % len(agents)]
            ms, _ = await timed(send(s.client(number), agent_id, f"load {index}"))
            if time.perf_counter() > warm_until:
                latencies.append(ms)

    cpu_before = s.cpu_s()
    await asyncio.gather(*(client(n) for n in range(clients)))
    cpu_ms = (s.cpu_s() - cpu_before) * 1000 / max(1, next(counter))
    return {
        "messages_per_s": round(len(latencies) / seconds, 1),
        "round_trip_ms": summary(latencies),
        "server_cpu_ms_per_message": round(cpu_ms, 2),
    }


async def idle_memory(bk: Backend, scale: Scale) -> dict[str, Any]:
    """Server RSS when it starts, once it holds many idle agents, and after listing them all."""
    async with servers(bk, label="memory") as s:
        baseline = s.rss_mb()
        await create_agents(s.main, scale.idle_agents, concurrency=8)
        after_create = s.rss_mb()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, "order": "asc"}
            if cursor:
                params["after"] = cursor
            page = (await s.main.get("/v1/agents", params=params)).json()
            if not page:
                break
            cursor = page[-1]["id"]
        after_list = s.rss_mb()
    return {
        "settings": {"agents": scale.idle_agents, "list_page": 100},
        "rss_mb": {
            "at_start": round(baseline, 1),
            "after_create": round(after_create, 1),
            "after_listing_all": round(after_list, 1),
        },
    }


async def history_growth(bk: Backend, scale: Scale) -> dict[str, Any]:
    """Step overhead of agents with 10, 1,000 and 10,000 stored messages, measured in turns
    so that all see the same noise. The context takes the newest 200 rows, so the 1,000 vs
    10,000 pair shows whether anything past that window still grows."""
    sizes = {"short": 10, "medium": 1000, "long": scale.history_long}
    async with servers(bk, label="history") as s:
        ids = dict(zip(sizes, await create_agents(s.main, len(sizes)), strict=True))
        for name, rows in sizes.items():
            await _seed_history(s.main, ids[name], rows)
        for i in range(WARMUP):
            for agent_id in ids.values():
                await send(s.main, agent_id, f"warm-up {i}")
        times: dict[str, list[float]] = {name: [] for name in sizes}
        for i in range(scale.history_messages):
            for name, agent_id in ids.items():
                ms, _ = await timed(send(s.main, agent_id, f"message {i}"))
                times[name].append(ms)
    medians = {name: summary(samples) for name, samples in times.items()}
    return {
        "settings": {
            **{f"{n}_history": r for n, r in sizes.items()},
            "messages_each": scale.history_messages,
        },
        **{f"{name}_round_trip_ms": figures for name, figures in medians.items()},
        "ratio": round(medians["long"]["median"] / medians["short"]["median"], 2),
        "ratio_long_vs_medium": round(medians["long"]["median"] / medians["medium"]["median"], 2),
    }


async def _seed_history(client: Any, agent_id: str, rows: int) -> None:
    """Fill an agent's stored history through the API: each request carries up to 99 user
    messages and gets one reply, so `rows` stored messages take rows/100 requests."""
    left = rows
    while left > 0:
        batch = min(left, 100) - 1
        body = {"messages": [{"role": "user", "content": f"old note {i}"} for i in range(batch)]}
        if not body["messages"]:
            body["messages"] = [{"role": "user", "content": "old note"}]
        answer = await checked(client.post(f"/v1/agents/{agent_id}/messages", json=body))
        left -= len(answer["messages"])


async def shared_block_contention(bk: Backend, scale: Scale) -> dict[str, Any]:
    """Writers append to one block shared by all their agents at once; every append must land."""
    writers, each = scale.contention_writers, scale.contention_appends_each
    async with servers(bk, label="contention") as s:
        block = await checked(
            s.main.post("/v1/blocks", json={"label": "shared", "value": "", "limit": 1_000_000})
        )
        agents = await create_agents(s.main, writers, model=SCRIPTED, block_ids=[block["id"]])

        async def writer(w: int) -> None:
            for k in range(each):
                text = "SCRIPT: " + json.dumps(
                    [
                        {
                            "tool": "core_memory_append",
                            "args": {"label": "shared", "content": f"<w{w}-{k}>"},
                        },
                        {"tool": "send_message", "args": {"message": "ok"}},
                    ]
                )
                await send(s.main, agents[w], text)

        started = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        wall = time.perf_counter() - started
        final = await checked(s.main.get(f"/v1/blocks/{block['id']}"))
    expected = {f"<w{w}-{k}>" for w in range(writers) for k in range(each)}
    found = set(final["value"].split("\n"))
    return {
        "settings": {"writers": writers, "appends_each": each, "model": SCRIPTED + " (0 ms)"},
        "appends_per_s": round(len(expected) / wall, 1),
        "lost_updates": len(expected - found),
        "block_version": final["version"],
    }


BENCHMARKS: dict[str, Callable[[Backend, Scale], Awaitable[dict[str, Any]]]] = {
    "step": step_overhead,
    "window": full_window,
    "create": agent_creation,
    "broadcast": broadcast,
    "throughput": throughput,
    "memory": idle_memory,
    "history": history_growth,
    "contention": shared_block_contention,
    "wake": lambda bk, scale: wake.wake_latency(bk, scale.wake_sends),
    "summaries": lambda bk, scale: summaries.summary_cost(bk, scale.step_messages),
    "tracing": lambda bk, scale: tracing.tracing_cost(bk, scale.step_messages),
}


def scale_settings(scale: Scale) -> dict[str, Any]:
    return asdict(scale)
