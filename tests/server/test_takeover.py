"""Two processes on one PostgreSQL: a slow but live process keeps its work, however long its
model takes; once it dies (SIGKILL), the survivor takes over its runs, deliveries and
send-and-wait chains, told by the dead process's advisory lock, not by its leases running
out: here leases and heartbeats are set to ten minutes, so only the lock can tell."""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.server.helpers import make_agent, send
from tests.server.test_mailbox import FAN_OUT, _delivered, _wait_for
from tests.support.chains import check_completed, runs_of, start_chain, wait_until_ended
from tests.support.servers import ServerProcess


def test_a_survivor_takes_over_a_dead_process_but_not_a_slow_live_one(
    database_factory: Any, tmp_path: Path
) -> None:
    url = database_factory("postgres")
    calls = tmp_path / "model-calls.log"
    calls.touch()
    env = {
        "CHAIN_CALL_LOG": str(calls),
        "TROUPE_DELIVERY_LEASE": "600",
        "TROUPE_RUN_STALE_AFTER": "600",
        "TROUPE_MAILBOX_POLL": "0.2",
    }
    first = ServerProcess(url, tmp_path, env=env).start()
    second = ServerProcess(url, tmp_path, env=env).start()
    try:
        with httpx.Client(base_url=first.url, timeout=60) as http:
            # Slow but live: the child's model takes 4 s while the survivor looks every second.
            slow = start_chain(http, 0, child_latency_ms=4000)
            assert wait_until_ended(http, [slow], 1, timeout=60)["completed"] == 1
            check_completed(http, slow)
            live_calls = Counter(calls.read_text().splitlines())
            chains, receivers = _work_in_flight(http, calls)
        first.kill()
        killed_at = time.monotonic()
        owner = asyncio.run(_fetch(url, "SELECT owner FROM runs WHERE id = $1", chains[0]["run"]))
        held_at_kill = _held(url, owner)
        _wait_until(lambda: _held(url, owner) == (0, 0))
        taken_over_after = time.monotonic() - killed_at
        with httpx.Client(base_url=second.url, timeout=60) as http:
            ended = wait_until_ended(http, chains, len(chains), timeout=120)
            for receiver in receivers:
                _wait_for(http, receiver["id"], 1, timeout=60)
            taken_over_s = time.monotonic() - killed_at
            for chain in chains:
                check_completed(http, chain)
            time.sleep(0.5)  # nothing more may arrive
            delivered = sum((_delivered(http, r["id"]) for r in receivers), Counter())
    finally:
        first.stop()
        second.stop()
    print(
        f"\n[postgres] takeover: the dead process held {held_at_kill[0]} runs and "
        f"{held_at_kill[1]} deliveries, all taken over {taken_over_after:.1f} s after the kill; "
        f"its 5 chains and the 6 deliveries finished {taken_over_s:.1f} s after it"
    )
    assert held_at_kill[0] >= len(chains), "the first process should die mid-chain"
    assert held_at_kill[1] >= 1, "the first process should die holding deliveries"
    assert live_calls == Counter({"parent chain-0": 2, "child chain-0": 1}), live_calls
    assert ended == Counter({"completed": len(chains)}), ended
    assert delivered == Counter({"000": len(receivers)}), "each receiver got its message once"
    # The only runs that failed are the receivers' attempts the kill cut (each delivery then
    # ran again, once, in a run of its own).
    failed = asyncio.run(
        _fetch(url, "SELECT coalesce(array_agg(agent_id), '{}') FROM runs WHERE status = 'failed'")
    )
    assert set(failed) <= {r["id"] for r in receivers}, failed
    assert len(failed) <= held_at_kill[1], failed


def _work_in_flight(
    http: httpx.Client, calls: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Chains waiting on their children, and deliveries to slow receivers (the process they
    are sent to is woken at once: it claims most of them)."""
    chains = [start_chain(http, n, child_latency_ms=3000) for n in range(1, 6)]
    asked = {f"parent chain-{n}" for n in range(1, 6)}
    _wait_until(lambda: asked <= set(calls.read_text().splitlines()))
    receivers = [make_agent(http, model="test/echo@5000ms") for _ in range(6)]
    sender = make_agent(http, model=FAN_OUT, tools=["send_message_to_agent_async"])
    for receiver in receivers:
        send(http, sender["id"], f"FANOUT {receiver['id']} 1")
    for receiver in receivers:
        _wait_until(lambda r=receiver: runs_of(http, r["id"]))
    return chains, receivers


def _wait_until(condition: Callable[[], Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.1)


HELD = (
    "SELECT (SELECT count(*) FROM runs WHERE owner = $1 AND status = 'running'),"
    " (SELECT count(*) FROM deliveries WHERE claim_token = $1 AND status = 'processing')"
)


def _held(url: str, owner: str) -> tuple[int, int]:
    """The runs and deliveries a process holds, as the store says."""
    runs, deliveries = asyncio.run(_fetch(url, HELD, owner, row=True))
    return runs, deliveries


async def _fetch(url: str, query: str, *args: Any, row: bool = False) -> Any:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return (
            tuple(await conn.fetchrow(query, *args)) if row else await conn.fetchval(query, *args)
        )
    finally:
        await conn.close()
