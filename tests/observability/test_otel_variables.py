"""Which standard OTEL_* settings turn span export on, and how: nothing set means no tracer
at all (and so no cost); an endpoint alone means OTLP over HTTP/protobuf."""

import pytest

from troupe.config import OtelVariables
from troupe.observability.telemetry import Telemetry

OFF: list[dict[str, str]] = [
    {},
    {"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},  # no endpoint
    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"},
    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
]


@pytest.mark.parametrize("env", OFF)
def test_no_tracer_unless_the_variables_ask_for_export(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(OtelVariables.model_fields):
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert OtelVariables().traces_exporter() is None
    telemetry = Telemetry.from_environment()
    assert telemetry.tracer is None
    assert telemetry.traceparent() is None
    with telemetry.invoke_agent(
        agent_id="a", conversation_id="a", run_id="r", trace_id="t", traceparent=None
    ) as run:
        assert run.span is None
        with telemetry.chat(
            handle="test/echo", agent_id="a", conversation_id="a", step_id="s"
        ) as chat:
            assert chat.span is None
            assert not chat.capture
            chat.answered((3, 2), "stop", None)
        run.ended("end_turn", (3, 2), 1, None, fails=False)
    # The metrics count all the same.
    text = telemetry.metrics.exposition(mailbox_depth=0, lock_waiters=0, pools=[]).decode()
    assert 'troupe_runs_total{stop_reason="end_turn"} 1.0' in text
    assert 'troupe_model_tokens_total{model="echo",provider="test",type="input"} 3.0' in text


def test_the_endpoint_protocol_and_opt_in_are_read_as_standard() -> None:
    grpc = OtelVariables(
        otel_exporter_otlp_traces_endpoint="http://127.0.0.1:4317",
        otel_exporter_otlp_protocol="http/protobuf",
        otel_exporter_otlp_traces_protocol="grpc",  # the signal's own wins
    )
    assert (grpc.traces_exporter(), grpc.protocol()) == ("otlp", "grpc")
    assert not grpc.capture_content()
    console = OtelVariables(otel_traces_exporter="console")
    assert (console.traces_exporter(), console.protocol()) == ("console", "http/protobuf")
    opted = OtelVariables(
        otel_exporter_otlp_endpoint="http://127.0.0.1:4318",
        otel_instrumentation_genai_capture_message_content="True",
    )
    assert opted.capture_content()
    assert opted.service_name() == "troupe"
