"""PostgreSQL NOTIFY and LISTEN: how one troupe process tells the others sharing its
database that something happened (a delivery was enqueued, a run was cancelled, a run
stored a step). A notice is sent when, and only if, the transaction that sends it commits;
every listening process, this one too, receives it."""

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.db import Database

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
MAX_PAYLOAD = 7000  # PostgreSQL refuses payloads of 8000 bytes and more


class Listening(Protocol):
    async def close(self) -> None: ...


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    await session.execute(_NOTIFY, {"channel": channel, "payload": payload})


async def notify_ids(session: AsyncSession, channel: str, ids: list[str]) -> None:
    """Several ids, comma-separated, in as few notices as fit."""
    batch: list[str] = []
    for item in ids:
        if batch and sum(len(i) + 1 for i in batch) + len(item) > MAX_PAYLOAD:
            await notify(session, channel, ",".join(batch))
            batch = []
        batch.append(item)
    if batch:
        await notify(session, channel, ",".join(batch))


async def listen(db: Database, channel: str, on_notice: Callable[[str], None]) -> Listening:
    """Call `on_notice(payload)` for each notice on `channel` until `close()`; on a
    connection of its own, so other processes' notices arrive too. PostgreSQL only."""
    connection = await db.writer.connect()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None, "LISTEN needs a live asyncpg connection"
    await driver.add_listener(channel, lambda _conn, _pid, _channel, payload: on_notice(payload))
    return connection
