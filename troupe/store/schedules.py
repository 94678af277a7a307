"""Scheduled messages: kept, listed, and claimed when due.

A due message is claimed with FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer at a
time anyway) in the transaction that records its run and moves it on, so each occurrence
fires once however many processes look."""

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.schedule_tables import ScheduledMessageRow

NOUN = "scheduled message"


async def page_of(session: AsyncSession, agent_id: str, page: Page) -> list[ScheduledMessageRow]:
    stmt = select(ScheduledMessageRow).where(ScheduledMessageRow.agent_id == agent_id)
    return await fetch_page(session, stmt, by_creation(ScheduledMessageRow), page)


async def get(session: AsyncSession, agent_id: str, scheduled_id: str) -> ScheduledMessageRow:
    row = await session.get(ScheduledMessageRow, scheduled_id)
    if row is None or row.agent_id != agent_id:  # another agent's is as good as absent
        raise NotFound(f"{NOUN} {scheduled_id!r} not found for agent {agent_id!r}")
    return row


async def remove(session: AsyncSession, agent_id: str, scheduled_id: str) -> None:
    await get(session, agent_id, scheduled_id)
    await session.execute(delete(ScheduledMessageRow).where(ScheduledMessageRow.id == scheduled_id))


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[ScheduledMessageRow]:
    """Due messages, locked until this transaction ends; others skip them."""
    stmt = (
        select(ScheduledMessageRow)
        .where(ScheduledMessageRow.next_run_at <= now)
        .order_by(ScheduledMessageRow.next_run_at, ScheduledMessageRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def moved_on(
    session: AsyncSession, scheduled_id: str, next_run_at: datetime | None, run_id: str
) -> None:
    """A fired message moves on to its next time; one with none (one-time) is removed, as
    Letta removes a one-time message once it has fired (its run stays)."""
    if next_run_at is None:
        await session.execute(
            delete(ScheduledMessageRow).where(ScheduledMessageRow.id == scheduled_id)
        )
        return
    await session.execute(
        update(ScheduledMessageRow)
        .where(ScheduledMessageRow.id == scheduled_id)
        .values(next_run_at=next_run_at, last_run_id=run_id)
    )


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the soonest scheduled message is due (None: nothing is scheduled)."""
    return (await session.execute(select(func.min(ScheduledMessageRow.next_run_at)))).scalar()
