"""PostgreSQL session advisory locks, one per agent, for the per-agent serial queue across
processes (see troupe.runs.locks). Held on a connection kept for locks, so PostgreSQL frees
them by itself if the process dies."""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from troupe.gathering import Gathering

# Several agents' lock requests in one statement, answered in the order they were given.
_LOCK_REQUESTS = text(
    "SELECT CASE WHEN r.take THEN pg_try_advisory_lock(r.key) ELSE pg_advisory_unlock(r.key) END"
    " FROM unnest(CAST(:keys AS bigint[]), CAST(:takes AS boolean[]))"
    " WITH ORDINALITY AS r(key, take, n) ORDER BY r.n"
)


class AdvisoryLockTimeout(Exception):
    """Another process kept the agent's lock past the caller's deadline."""


@dataclass(frozen=True)
class _Request:
    key: int
    take: bool  # True: try to take the lock; False: release it


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
        self._requests: Gathering[_Request, bool] = Gathering(
            self._execute, unclaimed=self._give_back
        )

    @staticmethod
    def key(agent_id: str) -> int:
        digest = hashlib.blake2b(agent_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _give_back(self, request: _Request, taken: bool) -> None:
        """A lock taken for an asker cancelled meanwhile: release it, or the process would
        keep the agent locked from every other process."""
        if request.take and taken:
            self._release(request.key)

    def _release(self, key: int) -> None:
        """Queue the release without waiting for it: requests go out in the order they were
        queued, so a later take of the key in this process comes after it. If it fails, the
        connection was dropped, and PostgreSQL released every lock held on it."""
        released = self._requests.submit(_Request(key, take=False))
        released.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _execute(self, batch: list[_Request]) -> list[bool]:
        if self._conn is None or self._conn.invalidated:
            conn = await self.engine.connect()
            # No transaction stays open on it between statements.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        params = {"keys": [r.key for r in batch], "takes": [r.take for r in batch]}
        try:
            return [bool(v) for v in (await self._conn.execute(_LOCK_REQUESTS, params)).scalars()]
        except Exception:
            conn, self._conn = self._conn, None
            await conn.close()
            raise

    @asynccontextmanager
    async def hold(self, agent_id: str, deadline: float) -> AsyncIterator[None]:
        """Hold the agent's lock; raises `AdvisoryLockTimeout` once `deadline` (monotonic
        clock) passes with another process still holding it."""
        key = self.key(agent_id)
        pause = 0.005
        while not await self._requests.ask(_Request(key, take=True)):
            if time.monotonic() > deadline:
                raise AdvisoryLockTimeout
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            self._release(key)

    async def close(self) -> None:
        await self._requests.settle()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
