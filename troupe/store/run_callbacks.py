"""The callbacks of finished runs: which are still to be sent, and how each attempt went."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import RunRow

FINISHED = ("completed", "failed", "cancelled")


async def unsent(session: AsyncSession, finished_before: datetime, limit: int) -> list[RunRow]:
    """Finished runs with a callback URL that no attempt was recorded for (the process that
    ran them stopped before it could send)."""
    stmt = (
        select(RunRow)
        .where(
            RunRow.callback_url.is_not(None),
            RunRow.callback_sent_at.is_(None),
            RunRow.status.in_(FINISHED),
            RunRow.completed_at < finished_before,
        )
        .order_by(RunRow.completed_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def claim(session: AsyncSession, run_id: str, now: datetime) -> bool:
    """Take the run's callback to send it; False if another process took it first."""
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.callback_sent_at.is_(None))
        .values(callback_sent_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_outcome(
    session: AsyncSession, run_id: str, status_code: int | None, error: str | None
) -> None:
    await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(callback_status_code=status_code, callback_error=error)
    )
