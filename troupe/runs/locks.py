"""One turn at a time per history: requests to a busy agent (or conversation) queue here
(FIFO) instead of being refused, up to a bounded wait. An agent's default history and each
of its conversations have locks of their own, so conversations of one agent run in
parallel. Within a process an asyncio lock orders the waiters; across processes sharing
PostgreSQL, the history's advisory lock (troupe.store.advisory_locks) is held for the turn
as well."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from troupe.errors import Unavailable
from troupe.store.advisory_locks import AdvisoryLockTimeout, PostgresAgentLock
from troupe.store.messages import History


class AgentBusy(Unavailable):
    """The agent stayed busy longer than the caller may wait."""


@dataclass
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class AgentLocks:
    def __init__(
        self, wait_timeout_s: float, cross_process: PostgresAgentLock | None = None
    ) -> None:
        self.wait_timeout_s = wait_timeout_s
        self.cross_process = cross_process
        self._slots: dict[str, _Slot] = {}

    @asynccontextmanager
    async def hold(self, history: History) -> AsyncIterator[None]:
        # The default history's key is the agent id, as it always was.
        agent_id = history.agent_id
        if history.conversation_id:
            agent_id = f"{history.agent_id}/{history.conversation_id}"
        deadline = time.monotonic() + self.wait_timeout_s
        slot = self._slots.setdefault(agent_id, _Slot())
        slot.users += 1
        try:
            if slot.users == 1:
                # Nobody holds or waits for it: taken at once, with no timer to arm.
                await slot.lock.acquire()
            else:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the wait
                    # in a task of its own, a loop turn even when the lock is free.
                    async with asyncio.timeout(self.wait_timeout_s):
                        await slot.lock.acquire()
                except TimeoutError:
                    raise self._busy(agent_id) from None
            try:
                if self.cross_process is None:
                    yield
                else:
                    try:
                        async with self.cross_process.hold(agent_id, deadline):
                            yield
                    except AdvisoryLockTimeout:
                        raise self._busy(agent_id) from None
            finally:
                slot.lock.release()
        finally:
            slot.users -= 1
            if slot.users == 0:
                self._slots.pop(agent_id, None)

    def waiting(self) -> int:
        """Turns of this process waiting for their agent's lock (not the ones holding it)."""
        return sum(slot.users - int(slot.lock.locked()) for slot in self._slots.values())

    def _busy(self, agent_id: str) -> AgentBusy:
        return AgentBusy(
            f"agent {agent_id!r} stayed busy for {self.wait_timeout_s:g} s; "
            "try again later or raise TROUPE_AGENT_QUEUE_TIMEOUT",
            retry_after_s=max(1, round(self.wait_timeout_s / 10)),
        )

    async def close(self) -> None:
        if self.cross_process is not None:
            await self.cross_process.close()
