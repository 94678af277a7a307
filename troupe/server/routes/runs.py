"""/v1/runs: what was asked of agents, and how it went."""

from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import StreamingResponse

from troupe.schemas.messages import LettaMessage, MessageRole, Run, UsageStatistics
from troupe.schemas.run_spans import StoredSpan
from troupe.schemas.runs import RunStreamRequest
from troupe.schemas.steps import Step
from troupe.server.deps import DatabaseDep, ExecutorDep, MessagePageDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.server.sse import SSE_HEADERS, event_stream
from troupe.services import run_spans, run_streams
from troupe.services import runs as service

router = APIRouter(prefix="/v1/runs", tags=["runs"])


@router.get("", response_model=list[Run])
async def list_runs(
    db: DatabaseDep,
    page: PageDep,
    agent_id: str | None = None,
    agent_ids: Annotated[list[str] | None, Query()] = None,
    status: str | None = None,
    statuses: Annotated[list[str] | None, Query()] = None,
    stop_reason: str | None = None,
    active: bool = False,
    background: bool | None = None,
    conversation_id: str | None = None,
) -> Response:
    """Runs, newest first; filter by agent and status (0.1.x: `agent_id`, `status`; 1.x:
    `agent_ids`, `statuses`, repeatable), `stop_reason`, `active` (not ended yet) and
    `background` (asked for in background mode, or not)."""
    return json_response(
        await service.list_runs(
            db,
            page,
            agent_ids=[*([agent_id] if agent_id else []), *(agent_ids or [])],
            statuses=[*([status] if status else []), *(statuses or [])],
            stop_reason=stop_reason,
            active=active,
            background=background,
            conversation_id=conversation_id,
        )
    )


# Before /{run_id}: "active" is not a run id.
@router.get("/active", response_model=list[Run])
async def list_active_runs(
    db: DatabaseDep,
    page: PageDep,
    agent_id: str | None = None,
    agent_ids: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Runs not ended yet (created or running), newest first."""
    agents = [*([agent_id] if agent_id else []), *(agent_ids or [])]
    return json_response(
        await service.list_runs(db, page, agent_ids=agents, statuses=[], active=True)
    )


@router.get("/{run_id}", response_model=Run)
async def retrieve_run(db: DatabaseDep, run_id: str) -> Response:
    return json_response(await service.get_run(db, run_id))


@router.delete("/{run_id}", response_model=Run)
async def delete_run(executor: ExecutorDep, run_id: str) -> Response:
    """0.1.x: a run still going is cancelled (and kept); an ended run is deleted."""
    return json_response(await service.delete_run(executor, run_id))


@router.get("/{run_id}/messages", response_model=list[LettaMessage])
async def list_run_messages(
    db: DatabaseDep, run_id: str, page: MessagePageDep, role: MessageRole | None = None
) -> Response:
    """The run's messages, oldest first; pages like every list (`after`, `before`, `limit`).
    `role` (0.1.x) keeps those of one role: "assistant" the model's, "tool" the returns."""
    return json_response(await service.run_messages(db, run_id, page, role=role))


@router.get("/{run_id}/usage", response_model=UsageStatistics)
async def retrieve_run_usage(db: DatabaseDep, run_id: str) -> Response:
    return json_response(await service.run_usage(db, run_id))


@router.get("/{run_id}/steps", response_model=list[Step])
async def list_run_steps(db: DatabaseDep, run_id: str, page: MessagePageDep) -> Response:
    return json_response(await service.run_steps(db, run_id, page))


@router.get("/{run_id}/trace", response_model=list[StoredSpan])
async def retrieve_run_trace(
    db: DatabaseDep, run_id: str, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> Response:
    """The run's spans (`invoke_agent`, a `chat` per step, an `execute_tool` per tool call),
    from what troupe stores: no exporter needed (see docs/observability.md)."""
    return json_response(await run_spans.run_spans(db, run_id, limit))


@router.post("/{run_id}/stream", response_class=StreamingResponse)
async def stream_run(
    executor: ExecutorDep, run_id: str, body: RunStreamRequest | None = None
) -> StreamingResponse:
    """The run's events after `starting_after` (a `seq_id`), then live until it ends; read
    from the store, so any server process can serve it, also after a restart."""
    reading = run_streams.reading(body or RunStreamRequest())
    events = await run_streams.open_run_stream(executor, run_id, reading)
    return StreamingResponse(
        event_stream(events), media_type="text/event-stream", headers=SSE_HEADERS
    )
