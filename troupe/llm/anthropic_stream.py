"""An Anthropic message streamed (`stream: true`): its events read as they arrive into
provider-neutral pieces (`Delta`), and in the end into the `ModelResponse` the whole message
would have given (llm/anthropic.py `_response` reads that one: text blocks joined by a
newline, thinking blocks likewise, each tool call's input as `json.dumps` writes it)."""

import json
from typing import Any

from troupe.llm.base import Delta, InvalidModelAnswer, ModelError, ModelResponse, ToolCall, Usage


class EventReader:
    def __init__(self, handle: str) -> None:
        self.handle = handle
        self.texts: list[list[str]] = []
        self.thoughts: list[list[str]] = []
        self.calls: list[tuple[str, str, dict[str, Any], list[str]]] = []
        self.blocks: dict[int, tuple[str, int]] = {}  # block index -> (kind, its place)
        self.input_tokens = 0
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self.started = False

    def read(self, name: str, event: dict[str, Any]) -> list[Delta]:
        kind = event.get("type") or name
        if kind == "error":
            error = event.get("error") or {}
            message = error.get("message") if isinstance(error, dict) else error
            raise ModelError(f"{self.handle}: the provider failed midway: {message}")
        if kind == "message_start":
            self.started = True
            usage = (event.get("message") or {}).get("usage") or {}
            self.input_tokens = usage.get("input_tokens") or 0
            self.output_tokens = usage.get("output_tokens") or 0
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
            usage = event.get("usage") or {}
            self.output_tokens = usage.get("output_tokens") or self.output_tokens
        elif kind == "content_block_start":
            return self._start(event.get("index", 0), event.get("content_block") or {})
        elif kind == "content_block_delta":
            return self._delta(event.get("index", 0), event.get("delta") or {})
        return []

    def _start(self, index: int, block: dict[str, Any]) -> list[Delta]:
        kind = block.get("type")
        if kind == "tool_use":
            self.blocks[index] = ("tool_use", len(self.calls))
            call_id, name = block.get("id") or "", block.get("name") or ""
            self.calls.append((call_id, name, block.get("input") or {}, []))
            return [Delta("arguments", "", len(self.calls) - 1, call_id, name)]
        if kind not in ("text", "thinking"):
            return []
        parts = self.texts if kind == "text" else self.thoughts
        self.blocks[index] = (kind, len(parts))
        parts.append([])
        # Blocks of a kind are joined by a newline, in the pieces as in the whole answer.
        newline = Delta("content" if kind == "text" else "reasoning", "\n")
        deltas = [newline] if len(parts) > 1 else []
        return deltas + self._text(kind, len(parts) - 1, block.get(kind) or "")

    def _delta(self, index: int, delta: dict[str, Any]) -> list[Delta]:
        kind, place = self.blocks.get(index, ("", 0))
        if kind == "tool_use" and delta.get("type") == "input_json_delta":
            piece = delta.get("partial_json") or ""
            self.calls[place][3].append(piece)
            return [Delta("arguments", piece, place)] if piece else []
        if kind == "text" and delta.get("type") == "text_delta":
            return self._text(kind, place, delta.get("text") or "")
        if kind == "thinking" and delta.get("type") == "thinking_delta":
            return self._text(kind, place, delta.get("thinking") or "")
        return []

    def _text(self, kind: str, place: int, text: str) -> list[Delta]:
        if not text:
            return []
        (self.texts if kind == "text" else self.thoughts)[place].append(text)
        return [Delta("content" if kind == "text" else "reasoning", text)]

    def response(self) -> ModelResponse:
        if not self.started:
            raise InvalidModelAnswer(f"{self.handle}: the provider streamed no message")
        calls = tuple(
            ToolCall(call_id, name, _arguments(start, pieces))
            for call_id, name, start, pieces in self.calls
        )
        return ModelResponse(
            content="\n".join("".join(parts) for parts in self.texts) or None,
            tool_calls=calls,
            reasoning="\n".join("".join(parts) for parts in self.thoughts) or None,
            usage=Usage(self.input_tokens, self.output_tokens),
            cut_short=self.stop_reason == "max_tokens",
        )


def _arguments(start: dict[str, Any], pieces: list[str]) -> str:
    """The input as the whole message's `json.dumps(input)` reads; the streamed text as it
    is if it does not parse (the whole message could not have carried it)."""
    text = "".join(pieces)
    if not text:
        return json.dumps(start or {})
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return json.dumps(value or {})
