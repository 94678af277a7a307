"""The durable mailbox under failure: a SIGKILL mid-delivery loses nothing and repeats
nothing; two processes on one PostgreSQL share the work without processing anything twice."""

import asyncio
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.server.helpers import make_agent, send
from tests.support.servers import ServerProcess

FAN_OUT = "test/function:tests.support.models:fan_out"
MARK = re.compile(r"<(\d{3})>")


def _delivered(http: httpx.Client, agent_id: str) -> Counter[str]:
    history = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 10_000}).json()
    return Counter(
        m
        for message in history
        if message["message_type"] == "system_message"
        for m in MARK.findall(message["content"])
    )


def _wait_for(http: httpx.Client, agent_id: str, count: int, timeout: float) -> Counter[str]:
    deadline = time.monotonic() + timeout
    seen: Counter[str] = Counter()
    while time.monotonic() < deadline:
        seen = _delivered(http, agent_id)
        if sum(seen.values()) >= count:
            return seen
        time.sleep(0.25)
    return seen


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_mid_delivery_delivers_everything_exactly_once(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    server = ServerProcess(database_factory(backend), tmp_path, env={"TROUPE_DELIVERY_LEASE": "2"})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            receiver = make_agent(http, model="test/echo@15ms")
            sender = make_agent(http, model=FAN_OUT, tools=["send_message_to_agent_async"])
            send(http, sender["id"], f"FANOUT {receiver['id']} 200")
            before_kill = sum(_wait_for(http, receiver["id"], 10, timeout=30).values())
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            delivered = _wait_for(http, receiver["id"], 200, timeout=120)
            time.sleep(1)  # nothing more may arrive
            delivered = _delivered(http, receiver["id"])
    finally:
        server.stop()
    assert 10 <= before_kill < 200, "the kill should land while deliveries are in flight"
    assert set(delivered) == {f"{i:03d}" for i in range(200)}
    assert max(delivered.values()) == 1


def test_two_processes_share_one_postgres_mailbox_without_doing_anything_twice(
    database_factory: Any, tmp_path: Path
) -> None:
    url = database_factory("postgres")
    env = {"TROUPE_DISPATCH_CONCURRENCY": "4"}
    first = ServerProcess(url, tmp_path, env=env).start()
    second = ServerProcess(url, tmp_path, env=env).start()
    try:
        with httpx.Client(base_url=first.url, timeout=60) as http:
            receivers = [make_agent(http, model="test/echo@20ms") for _ in range(4)]
            senders = [
                make_agent(http, model=FAN_OUT, tools=["send_message_to_agent_async"])
                for _ in range(4)
            ]
            for sender, receiver in zip(senders, receivers, strict=True):
                send(http, sender["id"], f"FANOUT {receiver['id']} 30")
            results = [_wait_for(http, r["id"], 30, timeout=120) for r in receivers]
            time.sleep(1)
            results = [_delivered(http, r["id"]) for r in receivers]
            histories = [
                http.get(f"/v1/agents/{r['id']}/messages", params={"limit": 10_000}).json()
                for r in receivers
            ]
    finally:
        first.stop()
        second.stop()
    for delivered in results:
        assert set(delivered) == {f"{i:03d}" for i in range(30)}
        assert max(delivered.values()) == 1
    # One turn at a time per agent across both processes: each run's messages are contiguous.
    for history in histories:
        runs = [m["run_id"] for m in history]
        for run_id in set(runs):
            first_at, last_at = runs.index(run_id), len(runs) - 1 - runs[::-1].index(run_id)
            assert set(runs[first_at : last_at + 1]) == {run_id}
    tokens = asyncio.run(_claim_tokens(url))
    assert len(tokens) == 2, "both processes should have delivered some of the messages"


async def _claim_tokens(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT DISTINCT claim_token FROM deliveries WHERE status = 'done'")
    finally:
        await conn.close()
    return {r["claim_token"] for r in rows}


def test_a_busy_process_keeps_the_leases_of_deliveries_waiting_for_their_agent(
    database_factory: Any, tmp_path: Path
) -> None:
    """With every dispatch slot taken, a process still renews the leases of the deliveries it
    holds, so a second process does not take over one that is only waiting for its agent."""
    url = database_factory("postgres")
    env = {
        "TROUPE_DISPATCH_CONCURRENCY": "2",
        "TROUPE_DELIVERY_LEASE": "1",
        "TROUPE_MAILBOX_POLL": "0.2",
    }
    first = ServerProcess(url, tmp_path, env=env).start()
    second = ServerProcess(url, tmp_path, env=env)
    try:
        with httpx.Client(base_url=first.url, timeout=60) as http:
            receiver = make_agent(http, model="test/echo@6000ms")
            sender = make_agent(http, model=FAN_OUT, tools=["send_message_to_agent_async"])
            # The first process claims both: one runs, the other waits for the receiver (and
            # fills the second slot) far longer than the one-second lease.
            send(http, sender["id"], f"FANOUT {receiver['id']} 2")
            second.start()
            delivered = _wait_for(http, receiver["id"], 2, timeout=60)
    finally:
        first.stop()
        second.stop()
    assert set(delivered) == {"000", "001"}
    assert max(delivered.values()) == 1
    attempts, failed_runs = asyncio.run(_attempts_and_failed_runs(url))
    assert attempts == [1, 1], "a delivery was claimed again while its process still held it"
    assert failed_runs == []


async def _attempts_and_failed_runs(url: str) -> tuple[list[int], list[str]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        attempts = [r["attempts"] for r in await conn.fetch("SELECT attempts FROM deliveries")]
        failed = await conn.fetch("SELECT error FROM runs WHERE status = 'failed'")
    finally:
        await conn.close()
    return attempts, [r["error"] for r in failed]
