"""Server-sent events: a streamed turn's events on the wire, each as `data: <json>` and a
blank line, then `data: [DONE]` (what both SDK lines parse)."""

import json
from collections.abc import AsyncIterator

from troupe.services.messages import StreamEvent, TurnError

DONE = "data: [DONE]\n\n"


def frame(event: StreamEvent) -> str:
    if isinstance(event, TurnError):
        body = json.dumps(
            {
                "message_type": "error_message",
                "error_type": event.error_type,
                "message": event.message,
                "run_id": event.run_id,
            }
        )
    else:
        body = event.model_dump_json()
    return f"data: {body}\n\n"


async def event_stream(events: AsyncIterator[StreamEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield frame(event)
    yield DONE
