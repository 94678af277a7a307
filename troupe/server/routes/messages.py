"""/v1/agents/{id}/messages: talk to an agent, read its history."""

from collections.abc import Sequence

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from troupe.schemas.messages import LettaMessage, LettaResponse, MessageRequest, Run
from troupe.schemas.runs import CancelRequest
from troupe.server.deps import (
    DatabaseDep,
    ExecutorDep,
    HistoryPageDep,
    ReturnMessageTypes,
    executor_of,
)
from troupe.server.json_routes import Check, Direct, JsonBodyRoute, direct_call
from troupe.server.responses import json_response, turn_response
from troupe.server.routing import APIRouter
from troupe.server.sse import event_stream, turn_headers
from troupe.services import messages as service
from troupe.services import run_streams
from troupe.services import runs as run_service
from troupe.store.messages import History

# JsonBodyRoute: the body read and validated in one step (server/json_routes.py).
router = APIRouter(prefix="/v1/agents", tags=["messages"], route_class=JsonBodyRoute)


@router.post("/{agent_id}/messages", response_model=LettaResponse)
async def send_message(request: Request, agent_id: str, body: MessageRequest) -> Response:
    """Run a turn and answer with everything it produced (SSE instead with `streaming: true`).
    troupe adds `run_id` and `trace_id`, also as the X-Troupe-Run-Id / X-Troupe-Trace-Id
    headers."""
    if body.streaming:
        return await stream_message(request, agent_id, body)
    # The hottest route: the executor from the request, no dependency to solve.
    return turn_response(await service.send(executor_of(request), History(agent_id), body))


@router.post("/{agent_id}/messages/stream", response_class=StreamingResponse)
async def stream_message(
    request: Request, agent_id: str, body: MessageRequest
) -> StreamingResponse:
    """Server-sent events: each message as its step completes, then stop_reason, usage, [DONE].
    The run and trace ids come as the `X-Troupe-Run-Id` and `X-Troupe-Trace-Id` headers.
    With `background: true` the run goes on if the client leaves, and every event carries
    its `seq_id` and `run_id`, to resume with POST /v1/runs/{run_id}/stream."""
    run, events = await run_streams.stream(executor_of(request), History(agent_id), body)
    headers = turn_headers(run, body)
    return StreamingResponse(event_stream(events), media_type="text/event-stream", headers=headers)


def hot_route(checks: Sequence[Check]) -> tuple[APIRoute, Direct] | None:
    """`send_message`'s route and its endpoint's direct call, with the including router's
    `checks` (for server/hot_route.py); None if it cannot be called directly."""
    (route,) = (r for r in router.routes if getattr(r, "endpoint", None) is send_message)
    assert isinstance(route, APIRoute)
    direct = direct_call(route.dependant, route.endpoint, checks)
    return None if direct is None else (route, direct)


@router.post("/{agent_id}/messages/async", response_model=Run)
async def send_message_async(request: Request, agent_id: str, body: MessageRequest) -> Response:
    """Queue the turn as a run and answer at once; poll GET /v1/runs/{run_id}."""
    run = await service.send_async(executor_of(request), History(agent_id), body)
    return json_response(run)


@router.get("/{agent_id}/messages", response_model=list[LettaMessage])
async def list_messages(
    db: DatabaseDep,
    agent_id: str,
    page: HistoryPageDep,
    types: ReturnMessageTypes = None,
    conversation_id: str | None = None,
    group_id: str | None = None,
) -> Response:
    """History (a conversation's with `conversation_id`; a group's turns with `group_id`).
    Without `order`: the newest `limit` messages, oldest first."""
    listed = await service.list_agent_messages(
        db, agent_id, page, types, conversation_id=conversation_id, group_id=group_id
    )
    return json_response(listed)


@router.post("/{agent_id}/messages/cancel")
async def cancel_runs(
    executor: ExecutorDep, agent_id: str, body: CancelRequest | None = None
) -> dict[str, str]:
    """Cancel the agent's runs (`run_ids`, or every one not ended) and the runs they
    started; answers each cancelled run id with "cancelled"."""
    run_ids = body.run_ids if body is not None else None
    return await run_service.cancel_agent_runs(executor, agent_id, run_ids)
