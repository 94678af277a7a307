"""W3C trace context as text (`traceparent`, and `tracestate` when the trace has one), to
carry a span across what contextvars do not reach: a mailbox row, a stored run request, an
HTTP request from another process. `tracestate` holds what vendors and samplers put in the
trace (an APM's entries, OpenTelemetry's `ot` sampling threshold); it travels with the
`traceparent` so that every hop sees it, as the W3C specification asks."""

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


def current_tracestate() -> str | None:
    """The `tracestate` of the span now current, or None when it has none (the usual case)."""
    state = trace.get_current_span().get_span_context().trace_state
    return state.to_header() or None if state else None


def parent_of(traceparent: str | None, tracestate: str | None = None) -> Context | None:
    """The context a span continues from `traceparent` (with its `tracestate`); None (the
    current one) when it is absent or malformed."""
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    context = _PROPAGATOR.extract(carrier)
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
