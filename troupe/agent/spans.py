"""What the loop puts on its spans beyond ids and counts: the tool call's span, and the
model's request and answer in the GenAI conventions' message form (written only under the
content opt-in, see troupe.observability)."""

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from troupe.agent.calls import PlannedCall
from troupe.agent.deps import LoopDeps
from troupe.llm.base import ChatMessage, ModelRequest, ModelResponse, ToolCall

if TYPE_CHECKING:
    from troupe.observability.spans import ToolSpan


def tool_span(deps: LoopDeps, item: PlannedCall) -> "AbstractContextManager[ToolSpan]":
    """The `execute_tool` span of a call: the runs a cross-agent tool starts inside it (and
    the mailbox rows it writes) carry it as their parent."""
    call = item.call
    return deps.telemetry.execute_tool(name=call.name, call_id=call.id, arguments=call.arguments)


def model_request(request: ModelRequest) -> list[dict[str, Any]]:
    """`gen_ai.input.messages`: each message as a role and its parts."""
    return [_message(m) for m in request.messages]


def model_answer(response: ModelResponse, finish_reason: str) -> list[dict[str, Any]]:
    """`gen_ai.output.messages`: the one assistant message of the answer."""
    parts: list[dict[str, Any]] = []
    if response.reasoning:
        parts.append({"type": "reasoning", "content": response.reasoning})
    if response.content:
        parts.append({"type": "text", "content": response.content})
    parts += [_call_part(c) for c in response.tool_calls]
    return [{"role": "assistant", "parts": parts, "finish_reason": finish_reason}]


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        part = {
            "type": "tool_call_response",
            "id": message.tool_call_id,
            "response": message.content,
        }
        return {"role": "tool", "parts": [part]}
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "content": message.content})
    parts += [_call_part(c) for c in message.tool_calls]
    return {"role": message.role, "parts": parts}


def _call_part(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
