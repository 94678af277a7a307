"""Benchmark 11: what OpenTelemetry tracing costs a step. Two servers side by side, one
without OTEL_* variables and one exporting every span over OTLP/HTTP to a receiver in this
process, answer the same one-step turns (test/echo, 0 ms) in alternation, each first every
other step, so both see the same load on the machine. The figure is the server's CPU time
per step, traced minus untraced (CPU time, which other load barely moves; the batch
exporter's thread counts, as it runs in the server), with the round trips' medians beside
it."""

import time
from collections.abc import Sequence
from typing import Any

import psutil
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from benchmarks.harness import Backend, Servers, create_agents, send, servers, summary, timed
from tests.support.otlp import OtlpHttpReceiver
from troupe.observability.telemetry import Telemetry

WARMUP = 10


async def tracing_cost(bk: Backend, steps: int) -> dict[str, Any]:
    with OtlpHttpReceiver() as receiver:
        # The batch processor's defaults (a batch every 5 s, up to 512 spans), as deployed.
        traced_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        async with (
            servers(bk, label="untraced") as off,
            servers(bk, env=traced_env, label="traced") as on,
        ):
            (off_agent,) = await create_agents(off.main, 1)
            (on_agent,) = await create_agents(on.main, 1)
            for i in range(WARMUP):
                await send(off.main, off_agent, f"warm-up {i}")
                await send(on.main, on_agent, f"warm-up {i}")
            off_ms, on_ms = [], []
            off_cpu, on_cpu, on_others = off.cpu_s(), on.cpu_s(), _other_threads_cpu_s(on)
            pair = [(off, off_agent, off_ms), (on, on_agent, on_ms)]
            for i in range(steps):
                # Each goes first every other step: whichever follows the other may meet
                # the machine still busy with the first one's answer.
                for running, agent, times in pair if i % 2 == 0 else pair[::-1]:
                    times.append((await timed(send(running.main, agent, f"message {i}")))[0])
            off_cpu_ms = (off.cpu_s() - off_cpu) * 1000 / steps
            on_cpu_ms = (on.cpu_s() - on_cpu) * 1000 / steps
            others_ms = (_other_threads_cpu_s(on) - on_others) * 1000 / steps
        spans = len(receiver.spans())  # the traced server flushed its last batch as it stopped
    return {
        "settings": {"steps": steps, "model": "test/echo@0ms", "exporter": "otlp http/protobuf"},
        "server_cpu_ms_per_step_untraced": round(off_cpu_ms, 3),
        "server_cpu_ms_per_step_traced": round(on_cpu_ms, 3),
        "tracing_cpu_ms_per_step": round(on_cpu_ms - off_cpu_ms, 3),
        # Of the traced server's CPU, what its threads other than the event loop's used: the
        # batch exporter's (batching, OTLP encoding, HTTP posts).
        "traced_other_threads_cpu_ms_per_step": round(others_ms, 3),
        "round_trip_ms_untraced": summary(off_ms),
        "round_trip_ms_traced": summary(on_ms),
        # Per turn: the request's server span, invoke_agent and chat (echo replies at once).
        "spans_received": spans,
        # The same spans made in this process, encoded to OTLP protobuf but not sent: what
        # the loop itself adds per step, free of the servers' noise.
        "in_process_ms_per_step": {
            "untraced": _in_process_ms(Telemetry(), steps * 10),
            "traced": _in_process_ms(_encoding_telemetry(steps * 10), steps * 10),
        },
    }


def _other_threads_cpu_s(running: Servers) -> float:
    """CPU seconds of the server's threads but its main one (the event loop's)."""
    (proc,) = running.processes
    assert proc.process is not None
    pid = proc.process.pid
    return sum(t.user_time + t.system_time for t in psutil.Process(pid).threads() if t.id != pid)


class _EncodeOnly(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        encode_spans(spans).SerializeToString()
        return SpanExportResult.SUCCESS


def _encoding_telemetry(turns: int) -> Telemetry:
    provider = TracerProvider()
    # A queue that holds every span: the loop makes them faster than the default 2048 can
    # be encoded, and a dropped span's encoding would not count.
    provider.add_span_processor(BatchSpanProcessor(_EncodeOnly(), max_queue_size=3 * turns))
    return Telemetry(provider)


def _in_process_ms(telemetry: Telemetry, steps: int) -> float:
    """CPU ms (all threads) per one-step turn: the request, run and model-call spans, as the
    server makes them for a turn of test/echo, with their metrics."""
    started = time.process_time()
    for _ in range(steps):
        with telemetry.server_request("POST", [(b"content-type", b"application/json")]) as request:
            with telemetry.invoke_agent(
                agent_id="agent-1",
                conversation_id="agent-1",
                run_id="run-1",
                trace_id="trace-1",
                traceparent=telemetry.traceparent(),  # as the run's stored request carries it
            ) as run:
                run.agent("bench", "test/echo@0ms")
                with telemetry.chat(
                    handle="test/echo", agent_id="agent-1", conversation_id="agent-1", step_id="s"
                ) as chat:
                    chat.answered((10, 5), "tool_calls", None)
                run.ended("end_turn", (10, 5), 1, None, fails=False)
            request.answered("/v1/agents/{agent_id}/messages", 200)
    telemetry.shutdown()  # the last batch's encoding counts too
    return round((time.process_time() - started) * 1000 / steps, 3)
