"""A turn's answer, `LettaResponse`, as the JSON bytes its model serialises to, written from
the turn's messages without building the models.

Building a `LettaResponse` validates every message view into its pydantic model, then the
serialiser walks them back out: on a real server, per message sent, about as much CPU as
parsing the request. The turns most answers come from show only the simple message types
(text, reasoning, tool calls and their returns, approval requests); for those the answer is
written here as plain dicts in the models' own field order and serialised by pydantic-core's
`to_json`, the same writer the models use, so the bytes are the same (tests/server/
test_answer_json.py compares them over every message type). Any other message in the
answer (approval responses, compaction events and summaries, a user message with images,
whose text the 0.1.x SDK is given instead) and the whole answer is the models' as before.
"""

from collections.abc import Callable, Iterable
from typing import Any

from pydantic_core import to_json

from troupe.agent.messages import Message
from troupe.agent.turn import TurnResult
from troupe.services.views import common_fields, output_lines

Shape = Callable[[Message, dict[str, Any]], dict[str, Any]]


def _text(field: str, kind: str) -> Shape:
    def shape(row: Message, common: dict[str, Any]) -> dict[str, Any]:
        common["message_type"] = kind
        common[field] = row.content or ""
        return common

    return shape


def _reasoning(row: Message, common: dict[str, Any]) -> dict[str, Any]:
    common["message_type"] = "reasoning_message"
    common["reasoning"] = row.content or ""
    common["source"] = "reasoner_model"
    return common


def _call(kind: str) -> Shape:
    def shape(row: Message, common: dict[str, Any]) -> dict[str, Any]:
        call = {
            "name": row.tool_name or "",
            "arguments": row.tool_arguments or "{}",
            "tool_call_id": row.tool_call_id or "",
        }
        common["message_type"] = kind
        common["tool_call"] = call
        common["tool_calls"] = [call]
        return common

    return shape


def _tool_return(row: Message, common: dict[str, Any]) -> dict[str, Any]:
    returned = {
        "tool_return": row.content or "",
        "status": "error" if row.tool_status == "error" else "success",
        "tool_call_id": row.tool_call_id or "",
        "stdout": output_lines(row.stdout),
        "stderr": output_lines(row.stderr),
    }
    # ToolReturnMessage's fields: the first return's, then the message's, then all returns.
    return {
        **returned,
        **common,
        "message_type": "tool_return_message",
        "tool_returns": [{**returned, "type": "tool"}],
    }


SHAPES: dict[str, Shape] = {
    "user_message": _text("content", "user_message"),
    "system_message": _text("content", "system_message"),
    "assistant_message": _text("content", "assistant_message"),
    "reasoning_message": _reasoning,
    "tool_call_message": _call("tool_call_message"),
    "approval_request_message": _call("approval_request_message"),
    "tool_return_message": _tool_return,
}


def answer_json(
    result: TurnResult, run_id: str, trace_id: str | None, shown: Iterable[Message]
) -> bytes | None:
    """The answer's bytes, or None when a message in it is not of the simple types."""
    messages: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    for row in shown:
        shape = SHAPES.get(row.message_type)
        if shape is None or row.images:
            return None
        message = shape(row, common_fields(row))
        if last is None or not _joins(last, message):
            messages.append(message)
            last = message
    answer = {
        "messages": messages,
        "stop_reason": {"message_type": "stop_reason", "stop_reason": result.stop_reason},
        "usage": {
            "message_type": "usage_statistics",
            "completion_tokens": result.completion_tokens,
            "prompt_tokens": result.prompt_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
            "step_count": result.steps,
        },
        "error": result.error,
        "run_id": run_id,
        "trace_id": trace_id,
    }
    return to_json(answer)


def _joins(last: dict[str, Any], message: dict[str, Any]) -> bool:
    """Adds `message` to `last` when Letta shows them as one (services.message_groups)."""
    kind = message["message_type"]
    if not message["step_id"] or last["step_id"] != message["step_id"]:
        return False
    if kind != last["message_type"]:
        return False
    if kind in ("tool_call_message", "approval_request_message"):
        last["tool_calls"].append(message["tool_call"])
        return True
    if kind == "tool_return_message":
        last["tool_returns"].extend(message["tool_returns"])
        return True
    return False
