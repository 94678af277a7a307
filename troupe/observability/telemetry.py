"""The one object the rest of troupe reports through: `invoke_agent`, `chat` and
`execute_tool` spans after the OpenTelemetry GenAI conventions, the server span of each
request, and the metrics. With no exporter configured there is no tracer at all: each
call is a context manager that yields a handle with no span, and only the metrics count."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Tracer

from troupe import __version__
from troupe.config import OtelVariables
from troupe.observability import genai
from troupe.observability.context import current_traceparent, incoming, parent_of
from troupe.observability.metrics import Metrics
from troupe.observability.spans import ChatSpan, RequestSpan, RunSpan, ToolSpan, failed


class Telemetry:
    def __init__(
        self,
        provider: TracerProvider | None = None,
        *,
        capture_content: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self.provider = provider
        self.tracer: Tracer | None = (
            provider.get_tracer("troupe", __version__) if provider is not None else None
        )
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

    def shutdown(self) -> None:
        """Export what is still batched (at server stop)."""
        if self.provider is not None:
            self.provider.shutdown()

    @contextmanager
    def invoke_agent(
        self,
        *,
        agent_id: str,
        conversation_id: str,
        run_id: str,
        trace_id: str,
        traceparent: str | None,
    ) -> Iterator[RunSpan]:
        """One run of one agent in one of its histories (`conversation_id`: a
        conversation's id, or the agent's for its default history); `traceparent` (the span
        that caused it, carried through the mailbox or the stored request) is its parent,
        else the span now current."""
        attributes = {
            genai.OPERATION: "invoke_agent",
            genai.AGENT_ID: agent_id,
            genai.CONVERSATION_ID: conversation_id,
            genai.RUN_ID: run_id,
            genai.TRACE_ID: trace_id,
        }
        parent = self._parent(traceparent)
        with self._span("invoke_agent", attributes, parent) as span:
            handle = RunSpan(span, self.metrics)
            try:
                yield handle
            except BaseException as error:
                if handle.ended_as is None:
                    self.metrics.run_ended("error", 0)
                failed(span, error)
                raise

    @contextmanager
    def chat(
        self, *, handle: str, agent_id: str, conversation_id: str, step_id: str
    ) -> Iterator[ChatSpan]:
        provider, model = genai.provider_and_model(handle)
        attributes = {
            genai.OPERATION: "chat",
            genai.PROVIDER: provider,
            genai.REQUEST_MODEL: model,
            genai.AGENT_ID: agent_id,
            genai.CONVERSATION_ID: conversation_id,
            genai.STEP_ID: step_id,
        }
        with self._span(f"chat {model}", attributes, kind=SpanKind.CLIENT) as span:
            chat = ChatSpan(span, self.metrics, handle, capture=self.capture_content)
            try:
                yield chat
            except BaseException as error:
                chat.failed(error)
                raise

    @contextmanager
    def execute_tool(self, *, name: str, call_id: str, arguments: str) -> Iterator[ToolSpan]:
        attributes = {
            genai.OPERATION: "execute_tool",
            genai.TOOL_NAME: name,
            genai.TOOL_CALL_ID: call_id,
            genai.TOOL_TYPE: "function",
        }
        if self.capture_content:
            attributes[genai.TOOL_ARGUMENTS] = arguments
        with self._span(f"execute_tool {name}", attributes) as span:
            tool = ToolSpan(span, self.metrics, name, capture=self.capture_content)
            try:
                yield tool
            except BaseException as error:
                self.metrics.tool_call(name, "error")
                failed(span, error)
                raise

    @contextmanager
    def server_request(
        self, method: str, headers: Iterable[tuple[bytes, bytes]]
    ) -> Iterator[RequestSpan]:
        """An HTTP request (its raw ASGI headers); a `traceparent` header makes it part of
        the caller's trace."""
        parent = incoming(headers) if self.tracer is not None else None
        attributes = {"http.request.method": method}
        with self._span(method, attributes, parent, kind=SpanKind.SERVER) as span:
            yield RequestSpan(span, self.metrics, method)

    def _parent(self, traceparent: str | None) -> Context | None:
        """The context to continue `traceparent` from; None (the current one) when tracing is
        off or `traceparent` is the span now current, as for a run the request's own task
        executes: parsing it back costs more than the rest of the span (about 50 us)."""
        if self.tracer is None or traceparent is None or traceparent == current_traceparent():
            return None
        return parent_of(traceparent)

    @contextmanager
    def _span(
        self,
        name: str,
        attributes: dict[str, Any],
        parent: Context | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> Iterator[Span | None]:
        """The span made current for what runs inside (tasks started there inherit it),
        or None with tracing off."""
        if self.tracer is None:
            yield None
            return
        with self.tracer.start_as_current_span(
            name,
            context=parent,
            kind=kind,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span
