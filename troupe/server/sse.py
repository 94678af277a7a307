"""Server-sent events: a streamed turn's events on the wire, each as `data: <json>` and a
blank line, then `data: [DONE]` (what both SDK lines parse). Events read from a run's stored
stream also carry their `seq_id` and `run_id` (in the JSON, as Letta's, and as the SSE id)."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from troupe.agent.token_stream import Piece
from troupe.schemas.messages import MessageRequest, Run
from troupe.server.responses import RUN_HEADER, TRACE_HEADER
from troupe.services.messages import StreamEvent, TurnError
from troupe.services.pings import Ping
from troupe.services.run_streams import RunStreamEvent, Sequenced
from troupe.services.views import piece_view

DONE = "data: [DONE]\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Set on a background stream that asked for `stream_tokens`: it sends whole messages.
TOKENS_HEADER = "X-Troupe-Stream-Tokens"


def turn_headers(run: Run, body: MessageRequest) -> dict[str, str]:
    """The headers of a streamed turn: SSE's, its run and trace ids, and whether a
    background stream that asked for tokens sends whole messages instead (it is read back
    from the store, which holds whole messages: docs/api.md#token-streaming says why)."""
    headers = {**SSE_HEADERS, RUN_HEADER: run.id, TRACE_HEADER: run.trace_id or run.id}
    if body.background and body.stream_tokens:
        headers[TOKENS_HEADER] = "whole-messages"
    return headers


def frame(event: StreamEvent | RunStreamEvent) -> str:
    if isinstance(event, Sequenced):
        body = {**_fields(event.event), "seq_id": event.seq_id, "run_id": event.run_id}
        return f"id: {event.seq_id}\ndata: {json.dumps(body)}\n\n"
    if isinstance(event, Ping):
        return f"data: {json.dumps(_ping(event))}\n\n"
    if isinstance(event, TurnError):
        return f"data: {json.dumps(_fields(event))}\n\n"
    if isinstance(event, Piece):
        return f"data: {json.dumps(_fields(event))}\n\n"
    return f"data: {event.model_dump_json()}\n\n"


def _ping(ping: Ping) -> dict[str, Any]:
    """Letta's `LettaPing`, field for field (its id `ping-<uuid>`); no `id:` line, since a
    ping has no place in the run's sequence."""
    return {
        "id": f"ping-{uuid.uuid4()}",
        "date": datetime.now(UTC).isoformat(),
        "name": None,
        "message_type": "ping",
        "otid": None,
        "sender_id": None,
        "step_id": None,
        "is_err": None,
        "seq_id": None,
        "run_id": ping.run_id,
    }


def _fields(event: StreamEvent) -> dict[str, Any]:
    if isinstance(event, Ping):
        return _ping(event)
    if isinstance(event, TurnError):
        return {
            "message_type": "error_message",
            "error_type": event.error_type,
            "message": event.message,
            "run_id": event.run_id,
        }
    if isinstance(event, Piece):
        return piece_view(event)
    return event.model_dump(mode="json")


async def event_stream(events: AsyncIterator[StreamEvent | RunStreamEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield frame(event)
    yield DONE
