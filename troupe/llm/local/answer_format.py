"""A request's `response_format` on the embedded model, as a grammar: `json_object` or
`json_schema` makes the answer one JSON value of that schema, so it always parses. As in
Letta, the format is the shape of the reply tool's `message` (send_message's, which the API
shows as the assistant message): the grammar makes the model write that argument as the
schema's value, and the call hands it on as the JSON text the reply tool takes. With no
tool to call, the plain answer is that JSON text."""

import json
from typing import Any

from troupe.llm.base import ToolCall, ToolSpec

REPLY_TOOL = "send_message"  # Letta's assistant-message tool
REPLY_ARGUMENT = "message"


def answer_schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema an answer must fit; None for `text` (or no format)."""
    kind = (response_format or {}).get("type")
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        described = response_format.get("json_schema") or {}  # type: ignore[union-attr]
        schema = described.get("schema") if isinstance(described, dict) else None
        return schema if isinstance(schema, dict) and schema else {"type": "object"}
    return None


def shaped_tools(tools: list[ToolSpec], schema: dict[str, Any]) -> list[ToolSpec]:
    """The tools with the reply tool's message written as a value of `schema`."""
    return [_shaped(t, schema) if _is_reply(t) else t for t in tools]


def _is_reply(tool: ToolSpec) -> bool:
    return tool.name == REPLY_TOOL and REPLY_ARGUMENT in (tool.parameters.get("properties") or {})


def _shaped(tool: ToolSpec, schema: dict[str, Any]) -> ToolSpec:
    properties = {**tool.parameters["properties"], REPLY_ARGUMENT: schema}
    return ToolSpec(tool.name, tool.description, {**tool.parameters, "properties": properties})


def as_reply_text(call: ToolCall) -> ToolCall:
    """A reply call whose message was written as a JSON value, with that value as JSON text
    (the reply tool takes a string)."""
    if call.name != REPLY_TOOL:
        return call
    arguments = json.loads(call.arguments)
    message = arguments.get(REPLY_ARGUMENT)
    if isinstance(message, str):
        return call
    arguments[REPLY_ARGUMENT] = json.dumps(
        message if message is not None else {}, ensure_ascii=False
    )
    return ToolCall(call.id, call.name, json.dumps(arguments, ensure_ascii=False))
