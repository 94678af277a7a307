"""/v1/traces (troupe only): everything one request caused, across agents."""

from fastapi import APIRouter, Response

from troupe.schemas.traces import Trace
from troupe.server.deps import DatabaseDep
from troupe.server.responses import json_response
from troupe.services import traces as service

router = APIRouter(prefix="/v1/traces", tags=["traces"])


@router.get("/{trace_id}", response_model=Trace)
async def retrieve_trace(db: DatabaseDep, trace_id: str) -> Response:
    """The run tree with timings and messages, deliveries, and a Mermaid sequence diagram."""
    return json_response(await service.get_trace(db, trace_id))
