"""/v1/agents/{agent_id}/schedule: messages an agent receives later, once or on a cron
schedule (letta-client 1.12.1's `client.agents.schedule`)."""

from troupe.schemas.schedules import (
    ScheduleCreate,
    ScheduleCreated,
    ScheduleDeleted,
    ScheduledMessage,
    ScheduleList,
)
from troupe.server.deps import DatabaseDep, SchedulePageDep, SchedulerDep
from troupe.server.routing import APIRouter
from troupe.services import schedules as service

router = APIRouter(prefix="/v1/agents/{agent_id}/schedule", tags=["schedules"])


@router.post("", response_model=ScheduleCreated)
async def create_schedule(
    db: DatabaseDep, scheduler: SchedulerDep, agent_id: str, body: ScheduleCreate
) -> ScheduleCreated:
    """`scheduled_at` is Unix time in milliseconds; cron expressions are read in UTC."""
    return await service.create(db, scheduler, agent_id, body)


@router.get("", response_model=ScheduleList)
async def list_schedules(db: DatabaseDep, agent_id: str, page: SchedulePageDep) -> ScheduleList:
    """Oldest first; `after` is a scheduled message's id."""
    return await service.list_scheduled(db, agent_id, page)


@router.get("/{scheduled_message_id}", response_model=ScheduledMessage)
async def retrieve_schedule(
    db: DatabaseDep, agent_id: str, scheduled_message_id: str
) -> ScheduledMessage:
    return await service.get_scheduled(db, agent_id, scheduled_message_id)


@router.delete("/{scheduled_message_id}", response_model=ScheduleDeleted)
async def delete_schedule(
    db: DatabaseDep, agent_id: str, scheduled_message_id: str
) -> ScheduleDeleted:
    await service.delete_scheduled(db, agent_id, scheduled_message_id)
    return ScheduleDeleted()
