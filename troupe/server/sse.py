"""Server-sent events: a streamed turn's events on the wire, each as `data: <json>` and a
blank line, then `data: [DONE]` (what both SDK lines parse). Events read from a run's stored
stream also carry their `seq_id` and `run_id` (in the JSON, as Letta's, and as the SSE id)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from troupe.agent.token_stream import Piece
from troupe.services.messages import StreamEvent, TurnError
from troupe.services.run_streams import Ping, RunStreamEvent, Sequenced
from troupe.services.views import piece_view

DONE = "data: [DONE]\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(event: StreamEvent | RunStreamEvent) -> str:
    if isinstance(event, Sequenced):
        body = {**_fields(event.event), "seq_id": event.seq_id, "run_id": event.run_id}
        return f"id: {event.seq_id}\ndata: {json.dumps(body)}\n\n"
    if isinstance(event, Ping):
        ping = {"message_type": "ping", "id": "ping", "date": datetime.now(UTC).isoformat()}
        return f"data: {json.dumps({**ping, 'run_id': event.run_id})}\n\n"
    if isinstance(event, TurnError):
        return f"data: {json.dumps(_fields(event))}\n\n"
    if isinstance(event, Piece):
        return f"data: {json.dumps(_fields(event))}\n\n"
    return f"data: {event.model_dump_json()}\n\n"


def _fields(event: StreamEvent) -> dict[str, Any]:
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
