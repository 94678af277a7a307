"""Deterministic models for tests, shipped in the package (as pydantic-ai and the OpenAI
agents SDK do), so tests run the real loop, store and HTTP with a model of known behaviour.

In-process: `ScriptedModel([...])` answers with its responses in order; `FunctionModel(fn)`
answers with `fn(request)`. By handle, inside a server process:

- `test/echo` calls send_message with "echo: <the last user or system message>";
- `test/function:<module>:<callable>` answers with that callable (sync or async). Importing
  code named by an API caller is only allowed when TROUPE_ENABLE_TEST_MODELS=1;
- a suffix `@<N>ms` on either waits N ms before answering: a model of fixed latency, so
  benchmarks measure troupe's own overhead.
"""

import asyncio
import importlib
import inspect
import json
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from troupe.llm.base import ModelNotConfigured, ModelRequest, ModelResponse, ToolCall, Usage

ModelFunction = Callable[[ModelRequest], ModelResponse | Awaitable[ModelResponse]]
LATENCY = re.compile(r"@(\d+)ms$")


def tool_call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(f"call-{uuid.uuid4().hex[:12]}", name, json.dumps(arguments))


def reply(text: str) -> ModelResponse:
    """A response that answers with send_message."""
    return ModelResponse(tool_calls=(tool_call("send_message", message=text),), usage=Usage(1, 1))


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
    """Answers with `responses` in order, whatever it is asked."""

    def __init__(self, responses: list[ModelResponse], *, handle: str = "test/scripted") -> None:
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


def from_handle(handle: str) -> FunctionModel:
    """Resolve `test/...` handles (see the module docstring)."""
    name = handle.split("/", 1)[1]
    latency = LATENCY.search(name)
    latency_s = int(latency.group(1)) / 1000 if latency else 0.0
    name = LATENCY.sub("", name)
    if name == "echo":
        return FunctionModel(echo, handle=handle, latency_s=latency_s)
    if name.startswith("function:"):
        if os.environ.get("TROUPE_ENABLE_TEST_MODELS") != "1":
            raise ModelNotConfigured(
                "test/function models import code by name and are off; "
                "set TROUPE_ENABLE_TEST_MODELS=1 only in a test environment"
            )
        module_name, _, attribute = name[len("function:") :].partition(":")
        function = getattr(importlib.import_module(module_name), attribute)
        return FunctionModel(function, handle=handle, latency_s=latency_s)
    raise ModelNotConfigured(
        f"unknown test model {handle!r}; use test/echo or test/function:<module>:<callable>"
    )
