"""The per-agent advisory locks on PostgreSQL (troupe.store.advisory_locks): requests made
together go in one statement, each one is answered for its own agent, and a lock taken
for an asker that was cancelled meanwhile is given back."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from troupe.runs.locks import AgentLocks
from troupe.store import Database
from troupe.store.advisory_locks import AdvisoryLockTimeout, PostgresAgentLock
from troupe.store.messages import History


@pytest.fixture
async def db(database_factory: Any) -> AsyncIterator[Database]:
    database = Database(database_factory("postgres"))
    await database.migrate()
    yield database
    await database.dispose()


async def free_elsewhere(db: Database, agent_id: str) -> bool:
    """Whether another connection (another troupe process) could take the agent's lock."""
    url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    other = await asyncpg.connect(url)
    try:
        key = PostgresAgentLock.key(agent_id)
        taken = await other.fetchval("SELECT pg_try_advisory_lock($1)", key)
        if taken:
            await other.fetchval("SELECT pg_advisory_unlock($1)", key)
        return bool(taken)
    finally:
        await other.close()


async def eventually_free(db: Database, agent_id: str, within_s: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await free_elsewhere(db, agent_id):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_locks_asked_for_together_share_statements_and_exclude_other_processes(
    db: Database,
) -> None:
    assert db.lock_engine is not None
    locks = AgentLocks(30, PostgresAgentLock(db.lock_engine))
    statements: list[str] = []
    event.listen(
        db.lock_engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2])
    )
    agents = [f"agent-lock-{i}" for i in range(40)]
    all_held, done = asyncio.Event(), asyncio.Event()
    held: list[str] = []

    async def turn(agent_id: str) -> None:
        async with locks.hold(History(agent_id)):
            held.append(agent_id)
            if len(held) == len(agents):
                all_held.set()
            await done.wait()

    turns = [asyncio.create_task(turn(a)) for a in agents]
    await asyncio.wait_for(all_held.wait(), 30)
    assert not any([await free_elsewhere(db, a) for a in agents[:5]])
    done.set()
    await asyncio.gather(*turns)
    # Releases are queued, not waited for: they are out at once, in one statement.
    for agent_id in agents[:5]:
        assert await eventually_free(db, agent_id)
    # 40 takes and 40 releases; one at a time they were 80 statements.
    assert len(statements) <= 8
    await locks.close()


async def test_a_lock_taken_for_a_cancelled_asker_is_given_back(db: Database) -> None:
    assert db.lock_engine is not None
    lock = PostgresAgentLock(db.lock_engine)
    entered = asyncio.Event()

    async def hold() -> None:
        async with lock.hold("agent-cancelled", deadline=float("inf")):
            entered.set()
            await asyncio.sleep(60)

    for _ in range(3):  # cancelled before, while and after its statement is out
        task = asyncio.create_task(hold())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await eventually_free(db, "agent-cancelled")
    await lock.close()


async def test_a_process_with_a_queue_of_its_own_lets_another_process_waiting_take_its_turn(
    db: Database,
) -> None:
    """Two processes (two lock connections) queueing for one agent: the process holding the
    lock must not hand it from one of its own waiters to the next while the other process
    waits, or a request behind a load balancer waits out every request that reached the
    busy process after it (and at TROUPE_AGENT_QUEUE_TIMEOUT gets a 503)."""
    assert db.lock_engine is not None
    busy = AgentLocks(30, PostgresAgentLock(db.lock_engine))
    other = AgentLocks(30, PostgresAgentLock(db.lock_engine))
    history = History("agent-fair")
    order: list[str] = []
    first_held = asyncio.Event()

    async def turn(locks: AgentLocks, name: str) -> None:
        async with locks.hold(history):
            order.append(name)
            first_held.set()
            await asyncio.sleep(0.05)

    busy_turns = [asyncio.create_task(turn(busy, f"busy-{i}")) for i in range(12)]
    await asyncio.wait_for(first_held.wait(), 10)
    other_turn = asyncio.create_task(turn(other, "other"))
    await asyncio.wait_for(asyncio.gather(*busy_turns, other_turn), 30)
    # It asked while the busy process's first turn ran: it goes within a turn or two of
    # that one, not after the eleven queued behind it in the busy process.
    assert order.index("other") <= 3, order
    await busy.close()
    await other.close()


async def test_a_waiter_that_gives_up_leaves_the_queue(db: Database) -> None:
    """Timed out or cancelled, a waiter of another process no longer makes the holder's
    process give way (the queue key is free again), and the lock stays the holder's."""
    assert db.lock_engine is not None
    holder = PostgresAgentLock(db.lock_engine)
    waiter = PostgresAgentLock(db.lock_engine)
    queue = "queue:agent-gives-up"
    async with holder.hold("agent-gives-up", deadline=float("inf")):
        with pytest.raises(AdvisoryLockTimeout):
            async with waiter.hold("agent-gives-up", deadline=time.monotonic() + 0.3):
                pass
        assert await eventually_free(db, queue)
        for delay in (0, 0.001, 0.2):  # cancelled before, while and after its first try
            task = asyncio.create_task(_hold_briefly(waiter, "agent-gives-up"))
            await asyncio.sleep(delay)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await eventually_free(db, queue), delay
        assert not await free_elsewhere(db, "agent-gives-up")
    assert await eventually_free(db, "agent-gives-up")
    await holder.close()
    await waiter.close()


async def _hold_briefly(lock: PostgresAgentLock, agent_id: str) -> None:
    async with lock.hold(agent_id, deadline=float("inf")):
        pass
