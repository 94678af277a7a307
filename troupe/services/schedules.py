"""Scheduled messages: messages an agent receives at a time, or on a cron schedule."""

from dataclasses import replace
from datetime import UTC, datetime

from troupe.ids import new_id
from troupe.messaging.schedule_times import first_fire
from troupe.messaging.scheduler import Scheduler, run_for
from troupe.schemas.schedules import (
    ScheduleCreate,
    ScheduleCreated,
    ScheduledMessage,
    ScheduledMessageBody,
    ScheduleList,
)
from troupe.services.image_inputs import refuse_images_unseen
from troupe.store import Database, schedules
from troupe.store.agents import get_agent_row
from troupe.store.paging import Page
from troupe.store.schedule_tables import ScheduledMessageRow
from troupe.store.tables import utcnow


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def scheduled_view(row: ScheduledMessageRow) -> ScheduledMessage:
    return ScheduledMessage(
        id=row.id,
        agent_id=row.agent_id,
        message=ScheduledMessageBody.model_validate(row.message),
        next_scheduled_time=_iso(row.next_run_at),
        schedule=row.schedule,  # type: ignore[arg-type]  # validated into the union
    )


async def create(
    db: Database, scheduler: Scheduler, agent_id: str, body: ScheduleCreate
) -> ScheduleCreated:
    now = utcnow()
    schedule = body.schedule.model_dump()
    row = ScheduledMessageRow(
        id=new_id("scheduled_message"),
        agent_id=agent_id,
        message=body.model_dump(exclude={"schedule"}, exclude_none=True),
        schedule=schedule,
        next_run_at=first_fire(schedule, now),
        created_at=now,
    )
    run_for(row)  # what it will send must make a run: refuse it now, not when it fires
    if any(m.images() for m in body.messages):
        await refuse_images_unseen(db, agent_id, None)
    async with db.write() as session:
        await get_agent_row(session, agent_id)
        session.add(row)
    scheduler.wake()
    return ScheduleCreated(id=row.id, next_scheduled_at=_iso(row.next_run_at))


async def list_scheduled(db: Database, agent_id: str, page: Page) -> ScheduleList:
    async with db.read() as session:
        await get_agent_row(session, agent_id)
        rows = await schedules.page_of(session, agent_id, replace(page, limit=page.limit + 1))
    return ScheduleList(
        has_next_page=len(rows) > page.limit,
        scheduled_messages=[scheduled_view(r) for r in rows[: page.limit]],
    )


async def get_scheduled(db: Database, agent_id: str, scheduled_id: str) -> ScheduledMessage:
    async with db.read() as session:
        return scheduled_view(await schedules.get(session, agent_id, scheduled_id))


async def delete_scheduled(db: Database, agent_id: str, scheduled_id: str) -> None:
    async with db.write() as session:
        await schedules.remove(session, agent_id, scheduled_id)
