"""Benchmark 11: what OpenTelemetry tracing costs a step. Two servers side by side, one
without OTEL_* variables and one exporting every span over OTLP/HTTP to a receiver in this
process, answer the same one-step turns (test/echo, 0 ms) in alternation, so both see the
same load on the machine. The figure is the server's CPU time per step, traced minus
untraced (CPU time, which other load barely moves; the batch exporter's thread counts, as
it runs in the server), with the round trips' medians beside it."""

from typing import Any

from benchmarks.harness import Backend, create_agents, send, servers, summary, timed
from tests.support.otlp import OtlpHttpReceiver

WARMUP = 10


async def tracing_cost(bk: Backend, steps: int) -> dict[str, Any]:
    with OtlpHttpReceiver() as receiver:
        traced_env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
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
            off_cpu, on_cpu = off.cpu_s(), on.cpu_s()
            for i in range(steps):
                off_ms.append((await timed(send(off.main, off_agent, f"message {i}")))[0])
                on_ms.append((await timed(send(on.main, on_agent, f"message {i}")))[0])
            off_cpu_ms = (off.cpu_s() - off_cpu) * 1000 / steps
            on_cpu_ms = (on.cpu_s() - on_cpu) * 1000 / steps
        spans = len(receiver.spans())  # the traced server flushed its last batch as it stopped
    return {
        "settings": {"steps": steps, "model": "test/echo@0ms", "exporter": "otlp http/protobuf"},
        "server_cpu_ms_per_step_untraced": round(off_cpu_ms, 3),
        "server_cpu_ms_per_step_traced": round(on_cpu_ms, 3),
        "tracing_cpu_ms_per_step": round(on_cpu_ms - off_cpu_ms, 3),
        "round_trip_ms_untraced": summary(off_ms),
        "round_trip_ms_traced": summary(on_ms),
        # Per turn: the request's server span, invoke_agent and chat (echo replies at once).
        "spans_received": spans,
    }
