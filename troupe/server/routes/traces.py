"""/v1/traces (troupe only): everything one request caused, across agents."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.traces import Trace, TraceSummary
from troupe.server.deps import DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import traces as service

router = APIRouter(prefix="/v1/traces", tags=["traces"])


@router.get("", response_model=list[TraceSummary])
async def list_traces(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    agent_id: str | None = None,
) -> Response:
    """The most recent traces first, each summed up; `agent_id` keeps those it took part in."""
    return json_response(await service.list_traces(db, limit=limit, agent_id=agent_id))


@router.get("/{trace_id}", response_model=Trace)
async def retrieve_trace(db: DatabaseDep, trace_id: str) -> Response:
    """The run tree with timings and messages, deliveries, and a Mermaid sequence diagram."""
    return json_response(await service.get_trace(db, trace_id))
