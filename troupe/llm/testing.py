"""Deterministic models for tests, shipped in the package (as pydantic-ai and the OpenAI
agents SDK do), so tests run the real loop, store and HTTP with a model of known behaviour.

In-process: `ScriptedModel([...])` answers with its responses in order; `FunctionModel(fn)`
answers with `fn(request)`. By handle, inside a server process:

- `test/echo` calls send_message with "echo: <the last user or system message>";
- `test/scripted` follows a script carried in the message itself (see `scripted`);
- `test/summarizer` summarises deterministically (see `summarizer`);
- `test/function:<module>:<callable>` answers with that callable (sync or async). Importing
  code named by an API caller is only allowed when TROUPE_ENABLE_TEST_MODELS=1;
- a suffix `@<N>ms` on any of them waits N ms before answering: a model of fixed latency, so
  benchmarks measure troupe's own overhead.

A fake provider over HTTP (for the real adapters) is `troupe.llm.fake_server.FakeLLMServer`.
"""

import asyncio
import importlib
import inspect
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from troupe.config import ModelSettings
from troupe.llm.base import (
    ChatMessage,
    ModelNotConfigured,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)
from troupe.schemas.cross_agent import sender_of

ModelFunction = Callable[[ModelRequest], ModelResponse | Awaitable[ModelResponse]]
LATENCY = re.compile(r"@(\d+)ms$")


def tool_call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(f"call-{uuid.uuid4().hex[:12]}", name, json.dumps(arguments))


def reply(text: str) -> ModelResponse:
    """A response that answers with send_message."""
    return ModelResponse(tool_calls=(tool_call("send_message", message=text),), usage=Usage(1, 1))


def call(name: str, arguments: dict[str, Any] | str) -> ModelResponse:
    """A response making one tool call; `arguments` as a dict, or as text sent verbatim."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ModelResponse(
        tool_calls=(ToolCall(f"call-{uuid.uuid4().hex[:12]}", name, text),),
        usage=Usage(prompt_tokens=10, completion_tokens=5),
    )


class FunctionModel:
    def __init__(
        self, function: ModelFunction, *, handle: str = "test/function", latency_s: float = 0.0
    ) -> None:
        self.function = function
        self.handle = handle
        self.latency_s = latency_s

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        result = self.function(request)
        if inspect.isawaitable(result):
            result = await result
        return result


class ScriptedModel(FunctionModel):
    """In-process: answers with `responses` in order, whatever it is asked. (The handle
    `test/scripted` is another model: it reads its script from the message, see `scripted`.)"""

    def __init__(self, responses: list[ModelResponse], *, handle: str = "test/responses") -> None:
        self.responses = list(responses)
        self.requests: list[ModelRequest] = []
        super().__init__(self._next, handle=handle)

    def _next(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError("ScriptedModel ran out of responses")
        return self.responses.pop(0)


def echo(request: ModelRequest) -> ModelResponse:
    last = next(
        (
            m.content
            for m in reversed(request.messages)
            if m.role in {"user", "system"} and m.content
        ),
        "",
    )
    return reply(f"echo: {last}")


SCRIPT_MARKER = "SCRIPT:"


def turn_input(request: ModelRequest) -> tuple[str, list[ChatMessage]]:
    """The message that started this turn (the last user-role one) and what followed it."""
    for index in range(len(request.messages) - 1, -1, -1):
        if request.messages[index].role == "user":
            return request.messages[index].content or "", request.messages[index + 1 :]
    return "", []


def scripted(request: ModelRequest) -> ModelResponse:
    """`test/scripted`: follows a script carried in the message itself, so each test states
    exactly which tool calls the agent makes and the loop, store and API do the rest for real:

        SCRIPT: [{"tool": "core_memory_append", "args": {"label": "human", "content": "x"}},
                 {"tool": "send_message", "args": {"message": "done"}}]

    Step i of a turn answers with entry i. An entry may be {"text": "..."} (a plain reply),
    {"parallel": [{"tool": ..., "args": {...}}, ...]} (several calls in one response),
    {"tool": ..., "raw": "<arguments text>"} (arguments sent verbatim, e.g. broken JSON), and
    may set "heartbeat": false. An argument "{sender}" is replaced by the id of the agent
    whose message is being answered. A message with no script gets "ack: <its first line>",
    then "done"; past the script's end, "script finished"."""
    text, after = turn_input(request)
    step = sum(1 for m in after if m.role == "assistant")
    if SCRIPT_MARKER not in text:
        first_line = text.splitlines()[0] if text else ""
        if step == 0:
            return call("send_message", {"message": f"ack: {first_line}"})
        return call("send_message", {"message": "done"})
    script = json.loads(text.split(SCRIPT_MARKER, 1)[1].strip().splitlines()[0])
    if step >= len(script):
        return call("send_message", {"message": "script finished"})
    entry = script[step]
    if "text" in entry:
        return ModelResponse(content=entry["text"], usage=Usage(10, 5))
    if "raw" in entry:
        return call(entry["tool"], entry["raw"])
    if "parallel" in entry:
        calls = [call(e["tool"], e.get("args", {})).tool_calls[0] for e in entry["parallel"]]
        return ModelResponse(tool_calls=tuple(calls), usage=Usage(10, 5))
    arguments = dict(_substitute(entry.get("args", {}), sender_of(text) or ""))
    more = step + 1 < len(script)
    if entry["tool"] not in {"send_message", "send_message_to_agent_async"}:
        arguments.setdefault("request_heartbeat", entry.get("heartbeat", more))
    return call(entry["tool"], arguments)


def _substitute(value: Any, sender: str) -> Any:
    """An argument that is exactly "{sender}" becomes the sender's id (scripts nested in a
    message keep theirs for the agent that receives them)."""
    if value == "{sender}":
        return sender
    if isinstance(value, dict):
        return {k: _substitute(v, sender) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, sender) for v in value]
    return value


def summarizer(request: ModelRequest) -> ModelResponse:
    """`test/summarizer`: a summariser of known behaviour for the summaries of evicted history
    (troupe.agent.summarizer). It answers with the previous summary (the text between
    <summary> and </summary> of its request), then a line "- <first sentence>" for each
    "user: " line of the transcript (between <transcript> and </transcript>): recursive, as
    real summaries are, and keeping every fact a user stated until the server clips it."""
    text = request.messages[-1].content or "" if request.messages else ""
    previous = _between(text, "<summary>", "</summary>")
    notes = [
        f"- {_first_sentence(line[len('user: ') :])}"
        for line in _between(text, "<transcript>", "</transcript>").splitlines()
        if line.startswith("user: ")
    ]
    summary = "\n".join(filter(None, [previous, *notes])) or "Nothing to note."
    return ModelResponse(content=summary, usage=Usage(len(text) // 4, len(summary) // 4))


def _between(text: str, start: str, end: str) -> str:
    if start not in text:
        return ""
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def _first_sentence(text: str, limit: int = 160) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence[:limit]


BY_NAME: dict[str, ModelFunction] = {"echo": echo, "scripted": scripted, "summarizer": summarizer}


def from_handle(handle: str) -> FunctionModel:
    """Resolve `test/...` handles (see the module docstring)."""
    name = handle.split("/", 1)[1]
    latency = LATENCY.search(name)
    latency_s = int(latency.group(1)) / 1000 if latency else 0.0
    name = LATENCY.sub("", name)
    if name in BY_NAME:
        return FunctionModel(BY_NAME[name], handle=handle, latency_s=latency_s)
    if name.startswith("function:"):
        return FunctionModel(_imported(name), handle=handle, latency_s=latency_s)
    raise ModelNotConfigured(
        f"unknown test model {handle!r}; use test/echo, test/scripted, test/summarizer or "
        "test/function:<module>:<callable>"
    )


def _imported(name: str) -> ModelFunction:
    if not ModelSettings().enable_test_models:
        raise ModelNotConfigured(
            "test/function models import code by name and are off; "
            "set TROUPE_ENABLE_TEST_MODELS=1 only in a test environment"
        )
    module_name, _, attribute = name[len("function:") :].partition(":")
    function: ModelFunction = getattr(importlib.import_module(module_name), attribute)
    return function
