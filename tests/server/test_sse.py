"""The SSE framing of a streamed turn (troupe.server.sse): the bytes both SDK lines parse."""

from collections.abc import AsyncIterator

from troupe.schemas.messages import StopReason, UsageStatistics
from troupe.server.sse import event_stream
from troupe.services.messages import StreamEvent, TurnError


async def test_each_event_is_one_data_line_and_the_stream_ends_with_done() -> None:
    async def events() -> AsyncIterator[StreamEvent]:
        yield TurnError("run-1", "turn_failed", "the model said no")
        yield StopReason(stop_reason="error")
        yield UsageStatistics(step_count=1)

    framed = [chunk async for chunk in event_stream(events())]
    assert framed[0] == (
        'data: {"message_type": "error_message", "error_type": "turn_failed", '
        '"message": "the model said no", "run_id": "run-1"}\n\n'
    )
    assert framed[1] == f"data: {StopReason(stop_reason='error').model_dump_json()}\n\n"
    assert framed[2].startswith('data: {"message_type":"usage_statistics"')
    assert framed[3] == "data: [DONE]\n\n"
