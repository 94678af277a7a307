"""PostgreSQL session advisory locks, one per agent, for the per-agent serial queue across
processes (see troupe.runs.locks). Held on a connection kept for locks, so PostgreSQL frees
them by itself if the process dies.

Taking a lock is a try (`pg_try_advisory_lock`), polled while another process holds it: a
blocking wait would hold a connection per waiter. Polls alone are not fair: the process
holding an agent's lock releases it and takes it again for its own next waiter in one
round trip, so another process's waiter would find that gap only by luck, and a request
that reached it could wait out every request that reached the busy process after it (to
a 503 at TROUPE_AGENT_QUEUE_TIMEOUT). So a process whose try failed says it waits, by
holding the agent's *queue key* in shared mode, and a process's first try for a waiter
gives way (takes nothing, and queues the same way) while another process holds the queue
key. Queued waiters take the lock by polling; busy processes' turns then alternate."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from troupe.gathering import Gathering


class _Ask(IntEnum):
    RELEASE = 0  # unlock the agent's lock
    FIRST_TRY = 1  # take it unless held or another process queues; if not taken, queue
    RETRY = 2  # (queued already) take it; if taken, leave the queue
    LEAVE_QUEUE = 3  # give up waiting


class _Answer(IntEnum):
    NOT_TAKEN = 0  # and not queued (another process's first try was looking at the queue)
    TAKEN = 1
    QUEUED = 2  # not taken, and this process holds the queue key: others give way to it
    GAVE_WAY = 3  # queued too, behind another process that queued first


# A queued waiter polls at most this long apart; one that gave way waits longer before its
# first poll, so that a waiter queued before it, even between two polls, goes first.
POLL_MAX_S = 0.05
GIVE_WAY_S = 3 * POLL_MAX_S


# Several agents' lock requests in one statement, answered in the order they were given.
# A CASE tests its conditions in order and evaluates only what it needs, so each lock
# function below runs exactly when the one before let it.
_LOCK_REQUESTS = text(
    "SELECT CASE r.ask"
    "  WHEN 0 THEN CAST(pg_advisory_unlock(r.key) AS int)"
    # A first try: the queue key, taken exclusively and given back at once, says no other
    # process queues; only then is the lock tried. Not taken: this process queues.
    "  WHEN 1 THEN CASE"
    "    WHEN NOT pg_try_advisory_lock(r.queue) THEN 3 * pg_try_advisory_lock_shared(r.queue)::int"
    "    WHEN NOT pg_advisory_unlock(r.queue) THEN 0"
    "    WHEN pg_try_advisory_lock(r.key) THEN 1"
    "    ELSE 2 * pg_try_advisory_lock_shared(r.queue)::int END"
    "  WHEN 2 THEN CASE"
    "    WHEN NOT pg_try_advisory_lock(r.key) THEN 2"
    # Taken: this process leaves the queue (answering 1 whatever the unlock says).
    "    WHEN pg_advisory_unlock_shared(r.queue) THEN 1 ELSE 1 END"
    "  ELSE pg_advisory_unlock_shared(r.queue)::int END"
    " FROM unnest(CAST(:keys AS bigint[]), CAST(:queues AS bigint[]),"
    " CAST(:asks AS smallint[])) WITH ORDINALITY AS r(key, queue, ask, n) ORDER BY r.n"
)


class AdvisoryLockTimeout(Exception):
    """Another process kept the agent's lock past the caller's deadline."""


@dataclass(frozen=True)
class _Request:
    key: int
    queue: int  # the agent's queue key: held shared by the processes waiting for `key`
    ask: _Ask


class PostgresAgentLock:
    """The cross-process part, on PostgreSQL session advisory locks. One connection per
    process holds all of that process's locks: opening a connection per turn cost more than
    the turn (and a broadcast to 100 agents opened 100). Requests made in the same loop
    turn, or while a statement is out, go together in the next one (troupe.gathering): a
    broadcast's hundred turns used to take their locks one round trip after another. Within
    the process the asyncio lock in `AgentLocks` is always held first, so one key is never
    asked for twice at once (PostgreSQL would stack it). If the connection is lost,
    PostgreSQL drops its locks, as it did for a per-turn one."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._requests: Gathering[_Request, _Answer] = Gathering(
            self._execute, unclaimed=self._give_back
        )

    @staticmethod
    def key(agent_id: str) -> int:
        digest = hashlib.blake2b(agent_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    @staticmethod
    def queue_key(agent_id: str) -> int:
        return PostgresAgentLock.key(f"queue:{agent_id}")

    async def _ask(self, request: _Request) -> _Answer:
        answer = self._requests.ask(request)
        try:
            return await answer
        except asyncio.CancelledError:
            # Cancelled after the answer came but before this task read it: the Gathering
            # saw it claimed, so the undoing is done here.
            if answer.done() and not answer.cancelled() and answer.exception() is None:
                self._give_back(request, answer.result())
            raise

    def _give_back(self, request: _Request, answer: _Answer) -> None:
        """What was done for an asker cancelled meanwhile is undone: a lock taken is
        released, or the process would keep the agent locked from every other process; a
        place queued is left, or other processes would give way to a waiter that is gone."""
        if request.ask in (_Ask.FIRST_TRY, _Ask.RETRY) and answer is _Answer.TAKEN:
            self._send(_Request(request.key, request.queue, _Ask.RELEASE))
        elif answer in (_Answer.QUEUED, _Answer.GAVE_WAY):
            self._send(_Request(request.key, request.queue, _Ask.LEAVE_QUEUE))

    def _send(self, request: _Request) -> None:
        """Queue a release (or leaving the queue) without waiting for it: requests go out in
        the order they were queued, so a later take of the key in this process comes after
        it. If it fails, the connection was dropped, and PostgreSQL released every lock
        held on it."""
        sent = self._requests.submit(request)
        sent.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _execute(self, batch: list[_Request]) -> list[_Answer]:
        if self._conn is None or self._conn.invalidated:
            conn = await self.engine.connect()
            # No transaction stays open on it between statements.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        params = {
            "keys": [r.key for r in batch],
            "queues": [r.queue for r in batch],
            "asks": [int(r.ask) for r in batch],
        }
        try:
            answers = (await self._conn.execute(_LOCK_REQUESTS, params)).scalars()
        except Exception:
            conn, self._conn = self._conn, None
            await conn.close()
            raise
        return [
            _Answer(v) if r.ask in (_Ask.FIRST_TRY, _Ask.RETRY) else _Answer.NOT_TAKEN
            for r, v in zip(batch, answers, strict=True)
        ]

    @asynccontextmanager
    async def hold(self, agent_id: str, deadline: float) -> AsyncIterator[None]:
        """Hold the agent's lock; raises `AdvisoryLockTimeout` once `deadline` (monotonic
        clock) passes with another process still holding it."""
        key, queue = self.key(agent_id), self.queue_key(agent_id)
        pause = 0.005
        # None while a request is out: if the asker is cancelled then, `_give_back` undoes
        # what the request did, and nothing else must.
        answer: _Answer | None = None
        answer = await self._ask(_Request(key, queue, _Ask.FIRST_TRY))
        try:
            while answer is not _Answer.TAKEN:
                if time.monotonic() > deadline:
                    raise AdvisoryLockTimeout
                await asyncio.sleep(GIVE_WAY_S if answer is _Answer.GAVE_WAY else pause)
                pause = min(pause * 2, POLL_MAX_S)
                queued = answer in (_Answer.QUEUED, _Answer.GAVE_WAY)
                answer = None
                answer = await self._ask(
                    _Request(key, queue, _Ask.RETRY if queued else _Ask.FIRST_TRY)
                )
        except BaseException:
            if answer in (
                _Answer.QUEUED,
                _Answer.GAVE_WAY,
            ):  # the deadline, or a cancel between polls
                self._send(_Request(key, queue, _Ask.LEAVE_QUEUE))
            raise
        try:
            yield
        finally:
            self._send(_Request(key, queue, _Ask.RELEASE))

    async def close(self) -> None:
        await self._requests.settle()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
