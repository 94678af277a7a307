"""The tool call in a grammar-constrained reply. A reply cut off by the token limit is closed
mechanically at its longest parseable prefix, so every call parses."""

import json
import uuid
from typing import Any

from troupe.llm.base import ToolCall, ToolSpec
from troupe.llm.local.grammar import HEARTBEAT


def parse_call(text: str, tools: list[ToolSpec]) -> ToolCall:
    """The tool call in a grammar-constrained reply, with a fresh id. A reply cut off by
    the token limit is closed at its longest parseable prefix, so the call always parses."""
    names = [t.name for t in tools]
    data = complete_json(text.strip())
    name = data.get("name") if isinstance(data, dict) else None
    arguments = data.get("arguments") if isinstance(data, dict) else None
    if name not in names:
        partial = name if isinstance(name, str) else _partial_name(text)
        name = next((n for n in names if partial and n.startswith(partial)), names[0])
    if not isinstance(arguments, dict):
        arguments = {}
    offered = next(t for t in tools if t.name == name)
    if HEARTBEAT in (offered.parameters.get("properties") or {}):
        arguments[HEARTBEAT] = True
    call_id = f"call-{uuid.uuid4().hex[:24]}"
    return ToolCall(call_id, str(name), json.dumps(arguments, ensure_ascii=False))


def complete_json(text: str) -> Any:
    """`text` parsed as JSON, or, when it is a cut-off prefix of JSON, its longest prefix
    that parses once the open string and brackets are closed (None if nothing does)."""
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines in strings
    except json.JSONDecodeError:
        pass
    states = _closing_states(text)
    for end in range(len(text), 0, -1):
        inside, closing = states[end]
        try:
            return json.loads(text[:end] + ('"' if inside else "") + closing, strict=False)
        except json.JSONDecodeError:
            continue
    return None


def _closing_states(text: str) -> list[tuple[bool, str]]:
    """Per prefix length of `text`: (inside a string, the brackets that would close it)."""
    closers: list[str] = []
    states: list[tuple[bool, str]] = []
    inside = escaped = False
    for char in text:
        states.append((inside, "".join(reversed(closers))))
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]" and closers:
            closers.pop()
    states.append((inside, "".join(reversed(closers))))
    return states


def _partial_name(text: str) -> str:
    head = text.split('"name"', 1)[-1].lstrip(' :"')
    return head.split('"', 1)[0]
