"""troupe's spans skip the SDK's Span object (troupe/observability/lean_spans.py) but not
its rules: the provider's sampler decides, every span processor hears the start and end,
span limits cut attributes as the SDK would, and the OTLP encoding of the SDK's exporter
reads them as it reads the SDK's own spans."""

from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

from tests.support.otlp import ReceivedSpan, decode
from troupe.observability.telemetry import Telemetry

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Heard(SpanProcessor):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        span.set_attribute("heard.on_start", True)  # a processor may write at the start
        self.started.append(span.name)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.name)


def traced(**provider: Any) -> tuple[Telemetry, InMemorySpanExporter, Heard]:
    spans = InMemorySpanExporter()
    heard = Heard()
    tracer_provider = TracerProvider(**provider)
    tracer_provider.add_span_processor(heard)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    return Telemetry(tracer_provider, capture_content=True), spans, heard


def one_turn(telemetry: Telemetry, traceparent: str | None = None) -> None:
    with telemetry.invoke_agent(
        agent_id="agent-1",
        conversation_id="conv-1",
        run_id="run-1",
        trace_id="trace-1",
        traceparent=traceparent,
    ) as run:
        run.agent("helper", "openai/gpt-4o-mini")
        with telemetry.chat(
            handle="openai/gpt-4o-mini", agent_id="agent-1", conversation_id="conv-1", step_id="s"
        ) as chat:
            chat.asked([{"role": "user", "parts": [{"type": "text", "content": "x" * 50}]}])
            chat.answered((7, 3), "stop", None)
        run.ended("end_turn", (7, 3), 1, None, fails=False)


def received(spans: Sequence[ReadableSpan]) -> dict[str, ReceivedSpan]:
    """The spans as an OTLP collector decodes what the SDK's encoder made of them."""
    return {s.name: s for s in decode(encode_spans(spans))}


def test_spans_reach_every_processor_and_encode_as_the_sdks_own() -> None:
    telemetry, exporter, heard = traced()
    one_turn(telemetry, CALLER)
    assert heard.started == ["invoke_agent", "chat gpt-4o-mini"]
    assert heard.ended == ["chat gpt-4o-mini", "invoke_agent helper"]
    spans = received(exporter.get_finished_spans())
    run, chat = spans["invoke_agent helper"], spans["chat gpt-4o-mini"]
    assert (run.trace_id, run.parent_span_id) == (CALLER[3:35], CALLER[36:52])
    assert chat.parent_span_id == run.span_id
    assert chat.trace_id == run.trace_id
    assert run.attributes == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.id": "agent-1",
        "gen_ai.conversation.id": "conv-1",
        "troupe.run.id": "run-1",
        "troupe.trace.id": "trace-1",
        "heard.on_start": True,
        "gen_ai.agent.name": "helper",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
    }
    assert chat.kind == 3  # CLIENT
    assert chat.attributes["gen_ai.usage.output_tokens"] == 3
    assert "gen_ai.response.model" not in chat.attributes  # troupe's models do not say it
    assert telemetry.traceparent() is None  # nothing current once the run is over


def test_the_providers_sampler_decides_and_the_trace_still_carries_on() -> None:
    telemetry, exporter, heard = traced(sampler=ParentBased(ALWAYS_OFF))
    with telemetry.server_request("POST", []) as request:
        # Not sampled, not recorded: yet what the request causes joins its trace.
        assert request.span is not None
        assert not request.span.is_recording()
        traceparent = telemetry.traceparent()
        assert traceparent is not None
        assert not int(traceparent[-2:], 16) & 1  # not sampled
        one_turn(telemetry, traceparent)
        request.answered("/v1/agents/{agent_id}/messages", 200)
    assert exporter.get_finished_spans() == ()
    assert heard.started == []
    one_turn(telemetry, CALLER)  # a sampled caller: ParentBased follows it
    assert len(exporter.get_finished_spans()) == 2


def test_span_limits_cut_attributes_as_the_sdk_would() -> None:
    telemetry, exporter, _ = traced(
        span_limits=SpanLimits(max_span_attributes=4, max_span_attribute_length=20)
    )
    one_turn(telemetry)
    finished = {s.name: s for s in exporter.get_finished_spans()}
    chat = finished["chat gpt-4o-mini"]
    assert len(chat.attributes) == 4
    assert chat.dropped_attributes > 0
    assert all(len(v) <= 20 for v in chat.attributes.values() if isinstance(v, str))
    kept = {k: list(v) if isinstance(v, tuple) else v for k, v in chat.attributes.items()}
    assert received(list(finished.values()))["chat gpt-4o-mini"].attributes == kept


@pytest.mark.parametrize(
    ("stop_reason", "kind"),
    [("error", "troupe.run_failed"), ("llm_api_error", "llm_api_error")],
)
def test_a_failed_run_names_a_kind_of_error_not_the_model_that_failed(
    stop_reason: str, kind: str
) -> None:
    """error.type is low-cardinality (the stop reason: one value for every run the model
    failed, whatever the model); the error's own words are the status's description."""
    telemetry, spans, _ = traced()
    with telemetry.invoke_agent(
        agent_id="agent-1",
        conversation_id="agent-1",
        run_id="run-1",
        trace_id="t",
        traceparent=None,
    ) as run:
        run.agent("helper", "openai/gpt-4o-mini")
        error = "openai/gpt-4o-mini: the provider answered HTTP 500\nmore"
        run.ended(stop_reason, (0, 0), 0, error, fails=True)
    (span,) = spans.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["error.type"] == kind
    assert list(span.attributes["gen_ai.response.finish_reasons"]) == [stop_reason]
    assert span.status.description == "openai/gpt-4o-mini: the provider answered HTTP 500"
