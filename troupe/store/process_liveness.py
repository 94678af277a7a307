"""Which troupe processes sharing a PostgreSQL database are alive. Each process holds a
session advisory lock on its own id, on a connection of its own, for as long as it lives;
PostgreSQL drops the lock the moment that session ends (a crash, a SIGKILL, a lost host), so
a process that can take another's lock knows the other is dead. A live process keeps its
lock however slow its work is: a slow process is never mistaken for a dead one."""

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from troupe.store.tables import DeliveryRow, RunRow

# Marks the work of a dead process as overdue at once (heartbeats and leases long past).
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

# Try each key; give back at once each one taken (its owner is dead: nobody needs it held).
_PROBE = text(
    "SELECT k, CASE WHEN pg_try_advisory_lock(k) THEN pg_advisory_unlock(k) ELSE false END"
    " FROM unnest(CAST(:keys AS bigint[])) AS p(k)"
)


def process_key(process_id: str) -> int:
    digest = hashlib.blake2b(f"troupe-process:{process_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class ProcessLiveness:
    def __init__(self, engine: AsyncEngine, process_id: str) -> None:
        self.engine = engine
        self.process_id = process_id
        self._conn: AsyncConnection | None = None

    async def _connection(self) -> AsyncConnection:
        """The connection holding this process's own lock (taken again if it was lost)."""
        if self._conn is None or self._conn.invalidated:
            conn = await self.engine.connect()
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(
                text("SELECT pg_advisory_lock(:k)"), {"k": process_key(self.process_id)}
            )
            self._conn = conn
        return self._conn

    async def start(self) -> None:
        await self._connection()

    async def dead(self, owners: Collection[str]) -> set[str]:
        """Of these processes, those no longer alive."""
        others = {process_key(o): o for o in owners if o != self.process_id}
        if not others:
            return set()
        conn = await self._connection()
        try:
            rows = (await conn.execute(_PROBE, {"keys": list(others)})).all()
        except Exception:
            self._conn = None
            await conn.close()
            raise
        return {others[key] for key, free in rows if free}

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def owners_at_work(session: AsyncSession) -> set[str]:
    """The processes executing runs or holding deliveries, as the store records them."""
    runs = select(RunRow.owner).where(RunRow.status == "running", RunRow.owner.is_not(None))
    held = select(DeliveryRow.claim_token).where(
        DeliveryRow.status == "processing", DeliveryRow.claim_token.is_not(None)
    )
    found = set((await session.execute(runs.distinct())).scalars())
    found |= set((await session.execute(held.distinct())).scalars())
    return {owner for owner in found if owner}


async def release_work_of(session: AsyncSession, owners: Collection[str]) -> None:
    """The runs and deliveries of dead processes, overdue now: the usual recovery (stale
    heartbeats, run out leases) takes them over at its next round."""
    if not owners:
        return
    await session.execute(
        update(RunRow)
        .where(RunRow.owner.in_(list(owners)), RunRow.status == "running")
        .values(heartbeat_at=LONG_AGO)
    )
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.claim_token.in_(list(owners)), DeliveryRow.status == "processing")
        .values(claimed_until=LONG_AGO)
    )
