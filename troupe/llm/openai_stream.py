"""An OpenAI-compatible chat completion streamed (`stream: true`): its chunks read as they
arrive into provider-neutral pieces (`Delta`), and in the end into the `ModelResponse` the
whole answer would have given (llm/openai_compat.py reads that one)."""

from dataclasses import dataclass, field
from typing import Any

from troupe.llm.base import Delta, InvalidModelAnswer, ModelError, ModelResponse, ToolCall, Usage


@dataclass
class _Call:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)


class ChunkReader:
    """The chunks of one streamed completion (choice 0), in order."""

    def __init__(self, handle: str) -> None:
        self.handle = handle
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, _Call] = {}
        self.usage = Usage()
        self.finish: str | None = None
        self.chunks = 0

    def read(self, chunk: dict[str, Any]) -> list[Delta]:
        """The pieces one chunk adds; a chunk that carries an error fails the call."""
        if chunk.get("error"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise ModelError(f"{self.handle}: the provider failed midway: {message}")
        self.chunks += 1
        usage = chunk.get("usage")
        if usage:  # `stream_options.include_usage`: the last chunk, with no choices
            self.usage = Usage(usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
        deltas: list[Delta] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
            delta = choice.get("delta") or {}
            if reasoning := delta.get("reasoning_content"):
                self.reasoning.append(reasoning)
                deltas.append(Delta("reasoning", reasoning))
            if content := delta.get("content"):
                self.content.append(content)
                deltas.append(Delta("content", content))
            for call in delta.get("tool_calls") or ():
                deltas.extend(self._call_delta(call))
        return deltas

    def _call_delta(self, call: dict[str, Any]) -> list[Delta]:
        index = call.get("index", 0)
        function = call.get("function") or {}
        arguments = function.get("arguments") or ""
        known = self.calls.get(index)
        if known is None:
            known = self.calls[index] = _Call(call.get("id") or "", function.get("name") or "")
            known.arguments.append(arguments)
            return [Delta("arguments", arguments, index, known.id, known.name)]
        if call.get("id") and not known.id:
            known.id = call["id"]
        if not arguments:
            return []
        known.arguments.append(arguments)
        return [Delta("arguments", arguments, index)]

    def response(self) -> ModelResponse:
        """What the non-streamed answer with the same content would have read as."""
        if not self.chunks:
            raise InvalidModelAnswer(f"{self.handle}: the provider streamed no chunk")
        calls = tuple(
            ToolCall(call.id, call.name, "".join(call.arguments))
            for _, call in sorted(self.calls.items())
        )
        return ModelResponse(
            content="".join(self.content) or None,
            tool_calls=calls,
            reasoning="".join(self.reasoning) or None,
            usage=self.usage,
            cut_short=self.finish == "length",
        )
