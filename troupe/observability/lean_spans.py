"""troupe's spans, started and ended through the OpenTelemetry SDK's own tracer parts (its
sampler, id generator, resource, span limits and span processors, the batch exporter among
them) without the SDK's general-purpose `Span` object.

Why: the SDK's `Span` validates every attribute on the way in (a lock and a type walk per
attribute, twice for those set at the end), keeps them in a `BoundedAttributes` mapping that
the OTLP encoder then reads item by item through Python, and copies itself into a
`ReadableSpan` when it ends. troupe's spans carry a dozen attributes whose types troupe fixes
itself (str, int, list of str), set by one task, so a `LeanSpan` keeps them in a plain dict
and is itself the `ReadableSpan` the processors receive: a third of a span's cost.

What stays honest: the provider's sampler decides every span (`OTEL_TRACES_SAMPLER` is
obeyed, a span it drops is a `NonRecordingSpan` that still carries the trace on), ids come
from the provider's id generator, every span processor hears `on_start` and `on_end` as from
the SDK's tracer, and with span limits set (`OTEL_SPAN_ATTRIBUTE_*_LIMIT`,
`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`) the attributes go through the SDK's own
`BoundedAttributes` when the span ends. Not kept: the SDK's internal span metrics
(`OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED`) do not count these spans, and a `LeanSpan` is
not thread-safe (each is written by the one task that runs it)."""

import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, Tracer, TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

from troupe import __version__

_UNSET = Status(StatusCode.UNSET)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
# Beyond this many attributes the SDK's default count limit could drop some; troupe's
# spans carry at most 14.
_DEFAULT_COUNT_LIMIT = 128


class LeanTracer:
    """Starts `LeanSpan`s with the parts of the provider's tracer for troupe."""

    def __init__(self, provider: TracerProvider) -> None:
        tracer = cast(Tracer, provider.get_tracer("troupe", __version__))
        self.sampler = tracer.sampler
        self.ids = tracer.id_generator
        self.resource = tracer.resource
        self.processor = tracer.span_processor
        self.scope = InstrumentationScope("troupe", __version__)  # as get_tracer made it
        limits: SpanLimits = getattr(tracer, "_span_limits", None) or SpanLimits()
        self.count_limit = limits.max_span_attributes
        self.length_limit = limits.max_span_attribute_length
        # With the defaults no limit can bite troupe's attributes: no validation pass.
        self.bounded = self.length_limit is not None or (
            self.count_limit is not None and self.count_limit < _DEFAULT_COUNT_LIMIT
        )

    def start_span(
        self,
        name: str,
        context: Context | None,
        kind: SpanKind,
        attributes: dict[str, Any],
    ) -> trace.Span:
        """What the SDK's `Tracer.start_span` does, for a span without links: the parent is
        the span of `context` (the current one when None, read once here rather than by
        each sampler in turn)."""
        if context is None:
            context = get_current()
        parent: SpanContext | None = trace.get_current_span(context).get_span_context()
        if parent is not None and parent.is_valid:
            trace_id = parent.trace_id
            random_id = parent.trace_flags.random_trace_id
        else:
            parent = None
            trace_id = self.ids.generate_trace_id()
            random_id = self.ids.is_trace_id_random()
        sampled = self.sampler.should_sample(context, trace_id, name, kind, attributes)
        flags = _SAMPLED if sampled.decision.is_sampled() else _NOT_SAMPLED
        if random_id:
            flags = TraceFlags(flags | TraceFlags.RANDOM_TRACE_ID)
        span_context = SpanContext(
            trace_id,
            self.ids.generate_span_id(),
            is_remote=False,
            trace_flags=flags,
            trace_state=sampled.trace_state,
        )
        if not sampled.decision.is_recording():
            return trace.NonRecordingSpan(span_context)
        span = LeanSpan(self, name, span_context, parent, kind, dict(sampled.attributes))
        # Typed for the SDK's Span; a LeanSpan answers the same API Span and ReadableSpan.
        self.processor.on_start(span, parent_context=context)  # type: ignore[arg-type]
        return span


class LeanSpan(trace.Span, ReadableSpan):
    """A recording span whose attributes are a plain dict, and which is itself what the span
    processors receive when it ends (nothing changes it after that)."""

    def __init__(
        self,
        tracer: LeanTracer,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
    ) -> None:
        # ReadableSpan's fields, set here rather than through its __init__ (which would
        # build an empty Resource first).
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._resource = tracer.resource
        self._instrumentation_scope = tracer.scope
        self._instrumentation_info = None
        self._attributes: Any = attributes
        self._events: list[Event] = []
        self._links: Sequence[Link] = ()
        self._status = _UNSET
        self._start_time = time_ns()
        self._end_time: int | None = None
        self._tracer = tracer
        self._traceparent: str | None = None

    @property
    def traceparent(self) -> str:
        """This span as W3C `traceparent`, written once (a run stores it, then compares)."""
        if self._traceparent is None:
            c = self._context
            assert c is not None
            self._traceparent = f"00-{c.trace_id:032x}-{c.span_id:016x}-{int(c.trace_flags):02x}"
        return self._traceparent

    def get_span_context(self) -> SpanContext:
        return cast(SpanContext, self._context)

    def is_recording(self) -> bool:
        return self._end_time is None

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self._end_time is None:
            self._attributes.update(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end_time is None:
            self._attributes[key] = value

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """As the SDK's span: OK is final, UNSET changes nothing."""
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self._status = status

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._end_time is None:
            self._events.append(Event(name, dict(attributes or {}), timestamp))

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """The conventions' `exception` event, as the SDK's span writes it."""
        kind = type(exception)
        module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
        self.add_event(
            "exception",
            {
                "exception.type": f"{module}{kind.__qualname__}",
                "exception.message": str(exception),
                "exception.stacktrace": "".join(traceback.format_exception(exception)),
                "exception.escaped": str(escaped),
                **(attributes or {}),
            },
            timestamp,
        )

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            return
        self._end_time = end_time if end_time is not None else time_ns()
        tracer = self._tracer
        tracer.processor._on_ending(self)  # type: ignore[arg-type]
        if tracer.bounded:  # the SDK's own limits, applied as its span would
            self._attributes = BoundedAttributes(
                tracer.count_limit,
                self._attributes,
                immutable=True,
                max_value_len=tracer.length_limit,
            )
        tracer.processor.on_end(self)

    def __repr__(self) -> str:
        return f'LeanSpan(name="{self._name}", context={self._context})'
