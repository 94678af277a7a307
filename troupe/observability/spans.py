"""Handles on the spans of one run, model call, tool call or HTTP request. Each records
what happened on its span (when tracing is on) and in the metrics (always), so the loop
reports an event once and knows nothing of either API."""

import json
import time
from typing import Any

from opentelemetry.trace import Span, Status, StatusCode

from troupe.observability import genai
from troupe.observability.metrics import Metrics


def failed(span: Span | None, error: BaseException | str, description: str | None = None) -> None:
    """Mark a span failed with the conventions' `error.type`: a kind of error, few of them
    (an exception's class or a troupe name), with what happened as the status's text."""
    if span is None:
        return
    kind = error if isinstance(error, str) else type(error).__qualname__
    span.set_attribute(genai.ERROR_TYPE, kind)
    if description is None and not isinstance(error, str):
        description = str(error)
    span.set_status(Status(StatusCode.ERROR, description))


class RunSpan:
    """The `invoke_agent` span of one run."""

    __slots__ = ("ended_as", "learned", "metrics", "span")

    def __init__(self, span: Span | None, metrics: Metrics) -> None:
        self.span = span
        self.metrics = metrics
        self.ended_as: str | None = None
        self.learned: dict[str, str] = {}

    def agent(self, name: str, handle: str) -> None:
        """What the turn learned when it read its agent: written with how the run ended,
        so the SDK checks the run's attributes in one pass, not two."""
        if self.span is not None:
            self.span.update_name(f"invoke_agent {name}")
            provider, model = genai.provider_and_model(handle)
            self.learned = {
                genai.AGENT_NAME: name,
                genai.PROVIDER: provider,
                genai.REQUEST_MODEL: model,
            }

    def ended(
        self,
        stop_reason: str,
        tokens: tuple[int, int],
        steps: int,
        error: str | None,
        *,
        fails: bool,
    ) -> None:
        """`fails`: the stop reason fails the run (troupe.schemas.stop_reasons)."""
        self.ended_as = stop_reason
        self.metrics.run_ended(stop_reason, steps)
        if self.span is None:
            return
        self.span.set_attributes(
            {
                **self.learned,
                genai.FINISH_REASONS: [stop_reason],
                genai.INPUT_TOKENS: tokens[0],
                genai.OUTPUT_TOKENS: tokens[1],
            }
        )
        if error is not None or fails:
            # The error's text starts with whatever failed (often the model handle), which
            # would make error.type one value per model: the stop reason is the kind
            # (`llm_api_error`, `invalid_llm_response`, ...).
            kind = "troupe.run_failed" if stop_reason in ("error", "end_turn") else stop_reason
            failed(self.span, kind, None if error is None else _first_line(error))

    def interrupted(self, error: BaseException) -> None:
        """The run raised instead of ending."""
        if self.ended_as is None:
            self.metrics.run_ended("error", 0)
            if self.span is not None and self.learned:
                self.span.set_attributes(self.learned)
        failed(self.span, error)


class ChatSpan:
    """The `chat` span of one model call."""

    __slots__ = ("capture", "metrics", "model", "provider", "span", "started")

    def __init__(
        self, span: Span | None, metrics: Metrics, provider: str, model: str, *, capture: bool
    ) -> None:
        self.span = span
        self.metrics = metrics
        self.provider = provider
        self.model = model
        self.capture = capture and span is not None
        self.started = time.perf_counter()

    def asked(self, messages: list[dict[str, Any]]) -> None:
        """The request's messages, only under the content opt-in (built lazily by callers
        that check `capture` first)."""
        if self.span is not None and self.capture:
            self.span.set_attribute(genai.INPUT_MESSAGES, json.dumps(messages, ensure_ascii=False))

    def answered(
        self, tokens: tuple[int, int], finish_reason: str, output: list[dict[str, Any]] | None
    ) -> None:
        self.metrics.model_call(
            self.provider, self.model, time.perf_counter() - self.started, tokens, ok=True
        )
        if self.span is None:
            return
        self.span.set_attributes(
            {
                genai.INPUT_TOKENS: tokens[0],
                genai.OUTPUT_TOKENS: tokens[1],
                genai.FINISH_REASONS: [finish_reason],
            }
        )
        if self.capture and output is not None:
            self.span.set_attribute(genai.OUTPUT_MESSAGES, json.dumps(output, ensure_ascii=False))

    def failed(self, error: BaseException) -> None:
        elapsed = time.perf_counter() - self.started
        self.metrics.model_call(self.provider, self.model, elapsed, (0, 0), ok=False)
        failed(self.span, error)


class ToolSpan:
    """The `execute_tool` span of one tool call."""

    __slots__ = ("capture", "metrics", "name", "span")

    def __init__(self, span: Span | None, metrics: Metrics, name: str, *, capture: bool) -> None:
        self.span = span
        self.metrics = metrics
        self.name = name
        self.capture = capture and span is not None

    def failed(self, error: BaseException) -> None:
        self.metrics.tool_call(self.name, "error")
        failed(self.span, error)

    def outcome(self, status: str, text: str) -> None:
        self.metrics.tool_call(self.name, status)
        if self.span is None:
            return
        if self.capture:
            self.span.set_attribute(genai.TOOL_RESULT, text)
        if status != "success":
            failed(self.span, "troupe.tool_error")


class RequestSpan:
    """The server span of one HTTP request."""

    __slots__ = ("method", "metrics", "span", "started")

    def __init__(self, span: Span | None, metrics: Metrics, method: str) -> None:
        self.span = span
        self.metrics = metrics
        self.method = method
        self.started = time.perf_counter()

    def answered(self, route: str, status: int) -> None:
        self.metrics.request(self.method, route, status, time.perf_counter() - self.started)
        if self.span is None:
            return
        self.span.update_name(f"{self.method} {route}")
        self.span.set_attributes({"http.route": route, "http.response.status_code": status})
        if status >= 500:
            failed(self.span, str(status))


def _first_line(text: str) -> str:
    """An error's first line, as the status's description."""
    return text.strip().splitlines()[0][:300] if text.strip() else "error"
