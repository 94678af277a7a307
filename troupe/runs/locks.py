"""One turn at a time per history: requests to a busy agent (or conversation) queue here
(FIFO) instead of being refused, up to a bounded wait. An agent's default history and each
of its conversations have locks of their own, so conversations of one agent run in
parallel. Within a process an asyncio lock orders the waiters; across processes sharing
PostgreSQL, the history's advisory lock (troupe.store.advisory_locks) is held for the turn
as well."""

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import TracebackType

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

    def hold(self, history: History) -> "HeldLock":
        """`async with` it: the history's turn may run (FIFO after the others waiting)."""
        return HeldLock(self, history)

    async def take_if_free(self, history: History) -> "HeldLock | None":
        """The history's lock taken now if nobody holds or waits for it (never yielding to
        the loop), else None. Within one process only: with a cross-process lock
        (PostgreSQL) always None. Release it with `async with` (entering it is then a
        no-op) or `release`."""
        if self.cross_process is not None:
            return None
        held = HeldLock(self, history)
        if held.key in self._slots:
            return None
        slot = held.slot = self._slots[held.key] = _Slot()
        slot.users = 1
        await slot.lock.acquire()  # free: taken without a wait
        held.taken = True
        return held

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


class HeldLock:
    """One hold of a history's lock. A class, not a generator context manager: every turn
    takes one, and the generator's machinery cost more than the lock."""

    __slots__ = ("cross_process", "key", "locks", "slot", "taken")

    def __init__(self, locks: AgentLocks, history: History) -> None:
        self.locks = locks
        # The default history's key is the agent id, as it always was.
        self.key = history.agent_id
        if history.conversation_id:
            self.key = f"{history.agent_id}/{history.conversation_id}"
        self.cross_process: AbstractAsyncContextManager[None] | None = None
        self.taken = False  # taken already (`AgentLocks.take_if_free`): entering waits for nothing

    async def __aenter__(self) -> None:
        if self.taken:
            return
        locks, key = self.locks, self.key
        deadline = time.monotonic() + locks.wait_timeout_s
        slot = self.slot = locks._slots.setdefault(key, _Slot())
        slot.users += 1
        try:
            if slot.users == 1:
                # Nobody holds or waits for it: taken at once, with no timer to arm.
                await slot.lock.acquire()
            else:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the wait
                    # in a task of its own, a loop turn even when the lock is free.
                    async with asyncio.timeout(locks.wait_timeout_s):
                        await slot.lock.acquire()
                except TimeoutError:
                    raise locks._busy(key) from None
        except BaseException:
            self._leave()
            raise
        if locks.cross_process is None:
            return
        try:
            self.cross_process = locks.cross_process.hold(key, deadline)
            await self.cross_process.__aenter__()
        except BaseException as error:
            self.cross_process = None
            slot.lock.release()
            self._leave()
            if isinstance(error, AdvisoryLockTimeout):
                raise locks._busy(key) from None
            raise

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self.cross_process is not None:
                await self.cross_process.__aexit__(kind, error, trace)
        finally:
            self.taken = False
            self.slot.lock.release()
            self._leave()

    def release(self) -> None:
        """Give back a lock `take_if_free` took, if it is still held (its turn never
        entered it, or did not leave it yet)."""
        if self.taken:
            self.taken = False
            self.slot.lock.release()
            self._leave()

    def _leave(self) -> None:
        self.slot.users -= 1
        if self.slot.users == 0:
            self.locks._slots.pop(self.key, None)
