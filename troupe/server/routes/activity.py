"""/v1/activity (troupe only): when each agent last did something."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.agents import AgentActivity
from troupe.server.deps import DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import activity as service

router = APIRouter(prefix="/v1/activity", tags=["activity"])
MAX_IDS = 1000


@router.get("", response_model=list[AgentActivity])
async def list_activity(
    db: DatabaseDep,
    agent_id: Annotated[list[str] | None, Query(max_length=MAX_IDS)] = None,
) -> Response:
    """The time of each agent's newest message, most recent first; `agent_id` (repeatable)
    narrows it. Agents that never had a message are absent."""
    return json_response(await service.last_activity(db, agent_id))
