"""A history's lock taken at once when free (runs.locks `take_if_free`, what a message's
opening uses: runs.opening): never while another turn holds or waits for it, never across
processes, and given back exactly once whichever way its turn ends."""

import asyncio

from troupe.runs.locks import AgentLocks
from troupe.store.messages import History


async def test_a_free_lock_is_taken_at_once_and_a_busy_one_is_left_to_queue() -> None:
    locks = AgentLocks(wait_timeout_s=5)
    history, other = History("agent-1"), History("agent-1", "conv-1")
    held = await locks.take_if_free(history)
    assert held is not None
    assert await locks.take_if_free(history) is None  # held: the second waits its turn
    conversation = await locks.take_if_free(other)  # a conversation has a lock of its own
    assert conversation is not None
    conversation.release()

    order: list[str] = []

    async def queued() -> None:
        async with locks.hold(history):
            order.append("queued")

    waiter = asyncio.create_task(queued())
    await asyncio.sleep(0)
    assert locks.waiting() == 1
    assert await locks.take_if_free(history) is None  # someone waits: not free either
    async with held:  # the turn takes it over: entering waits for nothing
        order.append("opened")
    held.release()  # already given back by the block: nothing more happens
    await asyncio.wait_for(waiter, 5)
    assert order == ["opened", "queued"]
    assert locks.waiting() == 0

    again = await locks.take_if_free(history)  # free again, and a turn that never ran
    assert again is not None
    again.release()
    again.release()
    assert await locks.take_if_free(history) is not None


async def test_a_cross_process_lock_is_never_taken_at_once() -> None:
    class Elsewhere:  # stands in for PostgreSQL's advisory locks: never asked here
        async def close(self) -> None:
            pass

    locks = AgentLocks(wait_timeout_s=5, cross_process=Elsewhere())  # type: ignore[arg-type]
    assert await locks.take_if_free(History("agent-1")) is None
