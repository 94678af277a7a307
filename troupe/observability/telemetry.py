"""The one object the rest of troupe reports through: `invoke_agent`, `chat` and
`execute_tool` spans after the OpenTelemetry GenAI conventions, the server span of each
request, and the metrics. With no exporter configured there is no tracer at all: each
call is a context manager that yields a handle with no span, and only the metrics count."""

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from opentelemetry.context import Context, attach, detach
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, set_span_in_context

from troupe.config import OtelVariables
from troupe.observability import genai
from troupe.observability.context import (
    current_traceparent,
    current_tracestate,
    incoming,
    parent_of,
)
from troupe.observability.lean_spans import LeanTracer
from troupe.observability.metrics import Metrics
from troupe.observability.spans import ChatSpan, RequestSpan, RunSpan, ToolSpan


class Telemetry:
    def __init__(
        self,
        provider: TracerProvider | None = None,
        *,
        capture_content: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self.provider = provider
        self.tracer = LeanTracer(provider) if provider is not None else None
        self.capture_content = capture_content
        self.metrics = metrics or Metrics()

    @classmethod
    def from_environment(cls, variables: OtelVariables | None = None) -> "Telemetry":
        variables = variables or OtelVariables()
        exporter = variables.traces_exporter()
        if exporter is None:
            return cls()
        from troupe.observability.export import tracer_provider  # the SDK only when used

        provider = tracer_provider(
            exporter=exporter, protocol=variables.protocol(), service_name=variables.service_name()
        )
        return cls(provider, capture_content=variables.capture_content())

    @property
    def tracing(self) -> bool:
        return self.tracer is not None

    def traceparent(self) -> str | None:
        """The span now current as W3C `traceparent`, to store with what it causes."""
        return current_traceparent() if self.tracer is not None else None

    def tracestate(self) -> str | None:
        """The span now current's W3C `tracestate` (None when it has none), stored beside
        its `traceparent`."""
        return current_tracestate() if self.tracer is not None else None

    def shutdown(self) -> None:
        """Export what is still batched (at server stop)."""
        if self.provider is not None:
            self.provider.shutdown()

    def invoke_agent(
        self,
        *,
        agent_id: str,
        conversation_id: str,
        run_id: str,
        trace_id: str,
        traceparent: str | None,
        tracestate: str | None = None,
    ) -> "_Scoped[RunSpan]":
        """One run of one agent in one of its histories (`conversation_id`: a
        conversation's id, or the agent's for its default history); `traceparent` (the span
        that caused it, carried through the mailbox or the stored request, with its
        `tracestate`) is its parent, else the span now current."""
        scope = self._span(
            "invoke_agent",
            lambda: {
                genai.OPERATION: "invoke_agent",
                genai.AGENT_ID: agent_id,
                genai.CONVERSATION_ID: conversation_id,
                genai.RUN_ID: run_id,
                genai.TRACE_ID: trace_id,
            },
            self._parent(traceparent, tracestate),
        )
        handle = RunSpan(scope.span, self.metrics)
        return _Scoped(scope, handle, handle.interrupted)

    def chat(
        self, *, handle: str, agent_id: str, conversation_id: str, step_id: str
    ) -> "_Scoped[ChatSpan]":
        provider, model = genai.provider_and_model(handle)
        scope = self._span(
            "chat",
            lambda: {
                genai.OPERATION: "chat",
                genai.PROVIDER: provider,
                genai.REQUEST_MODEL: model,
                genai.AGENT_ID: agent_id,
                genai.CONVERSATION_ID: conversation_id,
                genai.STEP_ID: step_id,
            },
            kind=SpanKind.CLIENT,
            suffix=model,
            current=False,  # nothing troupe does inside a model call starts a span of its own
        )
        chat = ChatSpan(scope.span, self.metrics, provider, model, capture=self.capture_content)
        return _Scoped(scope, chat, chat.failed)

    def execute_tool(self, *, name: str, call_id: str, arguments: str) -> "_Scoped[ToolSpan]":
        scope = self._span(
            "execute_tool",
            lambda: {
                genai.OPERATION: "execute_tool",
                genai.TOOL_NAME: name,
                genai.TOOL_CALL_ID: call_id,
                genai.TOOL_TYPE: "function",
                **({genai.TOOL_ARGUMENTS: arguments} if self.capture_content else {}),
            },
            suffix=name,
        )
        tool = ToolSpan(scope.span, self.metrics, name, capture=self.capture_content)
        return _Scoped(scope, tool, tool.failed)

    def server_request(
        self, method: str, headers: Iterable[tuple[bytes, bytes]]
    ) -> "_Scoped[RequestSpan]":
        """An HTTP request (its raw ASGI headers); a `traceparent` header makes it part of
        the caller's trace."""
        parent = incoming(headers) if self.tracer is not None else None
        scope = self._span(
            method, lambda: {"http.request.method": method}, parent, kind=SpanKind.SERVER
        )
        return _Scoped(scope, RequestSpan(scope.span, self.metrics, method), None)

    def _parent(self, traceparent: str | None, tracestate: str | None) -> Context | None:
        """The context to continue `traceparent` from; None (the current one) when tracing is
        off or `traceparent` is the span now current, as for a run the request's own task
        executes: parsing it back costs more than the rest of the span (about 50 us)."""
        if self.tracer is None or traceparent is None or traceparent == current_traceparent():
            return None
        return parent_of(traceparent, tracestate)

    def _span(
        self,
        operation: str,
        attributes: Callable[[], dict[str, Any]],
        parent: Context | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        suffix: str = "",
        current: bool = True,
    ) -> "_SpanScope":
        """The span `operation suffix`, made current for what runs inside (tasks started there
        inherit it) unless `current` is False, or no span with tracing off, which builds
        neither name nor attributes."""
        if self.tracer is None:
            return _NO_SPAN
        name = f"{operation} {suffix}" if suffix else operation
        span = self.tracer.start_span(name, parent, kind, attributes())
        return _CurrentSpan(span) if current else _EndingSpan(span)


H = TypeVar("H")


class _Scoped(Generic[H]):
    """A span's handle, `with` it in the span's scope: the handle tells the span of an error
    that leaves the block. What a generator context manager did, at a fraction of its cost
    (with tracing off, most of a span's)."""

    __slots__ = ("handle", "on_error", "scope")

    def __init__(
        self, scope: "_SpanScope", handle: H, on_error: Callable[[BaseException], None] | None
    ) -> None:
        self.scope = scope
        self.handle = handle
        self.on_error = on_error

    def __enter__(self) -> H:
        self.scope.__enter__()
        return self.handle

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        try:
            if error is not None and self.on_error is not None:
                self.on_error(error)
        finally:
            self.scope.__exit__()


class _NoSpan:
    """With tracing off every span is this one reusable nothing."""

    __slots__ = ()
    span = None

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


_NO_SPAN = _NoSpan()


class _CurrentSpan:
    """What `start_as_current_span` does for troupe's spans (make the span current, end it
    on the way out), without its two generator context managers and their exception
    handling, which troupe's spans do themselves: a tenth of a span's cost."""

    __slots__ = ("span", "token")

    def __init__(self, span: Span) -> None:
        self.span = span

    def __enter__(self) -> Span:
        self.token = attach(set_span_in_context(self.span))
        return self.span

    def __exit__(self, *_: object) -> None:
        detach(self.token)
        self.span.end()


class _EndingSpan:
    """A span ended on the way out, never made current: no context to attach and detach."""

    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span

    def __enter__(self) -> Span:
        return self.span

    def __exit__(self, *_: object) -> None:
        self.span.end()


_SpanScope = _NoSpan | _CurrentSpan | _EndingSpan
