"""W3C trace context as text (`traceparent`), to carry a span across what contextvars do
not reach: a mailbox row, a stored run request, an HTTP request from another process."""

from collections.abc import Iterable

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from troupe.observability.lean_spans import LeanSpan

_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The `traceparent` of the span now current, or None when none is (tracing off)."""
    span = trace.get_current_span()
    if isinstance(span, LeanSpan):  # troupe's own: its text is kept
        return span.traceparent
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def parent_of(traceparent: str | None) -> Context | None:
    """The context a span continues from `traceparent`; None (the current one) when it is
    absent or malformed."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def incoming(headers: Iterable[tuple[bytes, bytes]]) -> Context | None:
    """The caller's trace context from raw request headers (`traceparent`, `tracestate`;
    ASGI gives their names in lower case)."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in (b"traceparent", b"tracestate")
    }
    if "traceparent" not in carrier:
        return None
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None
