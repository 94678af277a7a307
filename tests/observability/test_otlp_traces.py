"""OpenTelemetry: a troupe server exports its spans over OTLP to a receiver on 127.0.0.1,
and the spans form one tree across agents (broadcast, send-and-wait, the mailbox, sleep-time
hand-overs), joined to the caller's trace by its `traceparent` header, and carrying the
caller's `tracestate` to every span of it."""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script, send, unique
from tests.support.otlp import OtlpGrpcReceiver, OtlpHttpReceiver, ReceivedSpan
from tests.support.servers import ServerProcess

PONGER = "test/function:tests.support.models:ponger"
SLEEPER = "test/function:tests.support.group_models:sleeper"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
# A vendor's entry and OpenTelemetry's sampling threshold, as a caller's tracer may send them.
CALLER_STATE = "vendor=opaque-value,ot=th:0"
CALLER = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01", "tracestate": CALLER_STATE}
WAIT = "send_message_to_agent_and_wait_for_reply"
BROADCAST = "send_message_to_agents_matching_all_tags"


def otel_env(endpoint: str, protocol: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_SERVICE_NAME": "troupe-under-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",  # export every 50 ms, not every 5 s
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def traced(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, OtlpHttpReceiver]]:
    """One server per backend exporting to one HTTP receiver."""
    with OtlpHttpReceiver() as receiver:
        proc = ServerProcess(
            database_factory(request.param),
            tmp_path_factory.mktemp("otel"),
            env=otel_env(receiver.endpoint, "http/protobuf"),
        )
        proc.start()
        try:
            with httpx.Client(base_url=proc.url, timeout=60) as http:
                yield http, receiver
        finally:
            proc.stop()


def _by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.span_id: s for s in spans}


def _runs_of(spans: list[ReceivedSpan], agent_ids: set[str]) -> list[ReceivedSpan]:
    return [
        s
        for s in spans
        if s.attributes.get("gen_ai.operation.name") == "invoke_agent"
        and s.attributes.get("gen_ai.agent.id") in agent_ids
    ]


def _children(
    spans: list[ReceivedSpan], parent: ReceivedSpan, operation: str
) -> list[ReceivedSpan]:
    return [
        s
        for s in spans
        if s.parent_span_id == parent.span_id
        and s.attributes.get("gen_ai.operation.name") == operation
    ]


def test_a_twenty_worker_broadcast_is_one_tree_under_the_callers_trace(
    traced: tuple[httpx.Client, OtlpHttpReceiver],
) -> None:
    http, receiver = traced
    team = unique("team")
    supervisor = make_agent(http, name=unique("supervisor"), tags=[team], tools=[BROADCAST])
    workers = [make_agent(http, tags=[team, "worker"]) for _ in range(20)]
    worker_ids = {w["id"] for w in workers}
    response = http.post(
        f"/v1/agents/{supervisor['id']}/messages",
        headers=CALLER,
        json={
            "messages": [
                {
                    "role": "user",
                    "content": script(
                        {"tool": BROADCAST, "args": {"message": "go", "tags": [team, "worker"]}},
                        {"tool": "send_message", "args": {"message": "summary"}},
                    ),
                }
            ]
        },
    )
    assert response.status_code == 200, response.text

    def complete(spans: list[ReceivedSpan]) -> bool:
        done = _runs_of(spans, worker_ids | {supervisor["id"]})
        return len(done) == 21 and any(
            s.kind == 2 and s.parent_span_id == CALLER_SPAN for s in spans
        )

    spans = [s for s in receiver.wait_for(complete) if s.trace_id == CALLER_TRACE]
    assert {s.service_name for s in spans} == {"troupe-under-test"}
    # The caller's tracestate reaches every span, the workers' runs (stored, then started
    # from their stored requests) among them.
    assert {s.trace_state for s in spans} == {CALLER_STATE}
    # The request's server span continues the caller's span...
    (request_span,) = [s for s in spans if s.parent_span_id == CALLER_SPAN]
    assert request_span.name == "POST /v1/agents/{agent_id}/messages"
    assert request_span.attributes["http.response.status_code"] == 200
    # ...the supervisor's run is its child, with the conventions' attributes...
    (run,) = _children(spans, request_span, "invoke_agent")
    assert run.name == f"invoke_agent {supervisor['name']}"
    assert run.attributes["gen_ai.agent.id"] == supervisor["id"]
    assert run.attributes["gen_ai.agent.name"] == supervisor["name"]
    assert run.attributes["gen_ai.conversation.id"] == supervisor["id"]
    assert run.attributes["gen_ai.provider.name"] == "test"
    assert run.attributes["gen_ai.request.model"] == "scripted"
    assert run.attributes["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert run.attributes["gen_ai.usage.input_tokens"] == 20  # two steps of 10
    # ...its two model calls and the broadcast's tool call are the run's children...
    chats = _children(spans, run, "chat")
    assert len(chats) == 2
    assert all(c.kind == 3 and c.attributes["gen_ai.usage.output_tokens"] == 5 for c in chats)
    assert [c.attributes["gen_ai.response.finish_reasons"] for c in chats] == [["tool_calls"]] * 2
    assert "SCRIPT" in chats[0].attributes["gen_ai.input.messages"]  # content: opted in
    (tool,) = _children(spans, run, "execute_tool")
    assert tool.name == f"execute_tool {BROADCAST}"
    assert tool.attributes["gen_ai.tool.name"] == BROADCAST
    assert '"go"' in tool.attributes["gen_ai.tool.call.arguments"]
    # ...and the twenty workers' runs are children of that tool call, each with its chat.
    worker_runs = _children(spans, tool, "invoke_agent")
    assert {r.attributes["gen_ai.agent.id"] for r in worker_runs} == worker_ids
    for worker_run in worker_runs:
        (chat,) = _children(spans, worker_run, "chat")
        assert chat.attributes["gen_ai.agent.id"] == worker_run.attributes["gen_ai.agent.id"]


def test_a_three_hop_send_and_wait_chain_nests_run_in_tool_call_in_run(
    traced: tuple[httpx.Client, OtlpHttpReceiver],
) -> None:
    http, receiver = traced
    a, b, c = (make_agent(http, tools=[WAIT]) for _ in range(3))
    d = make_agent(http)
    to_d = script({"tool": WAIT, "args": {"message": "hello d", "other_agent_id": d["id"]}})
    to_c = script({"tool": WAIT, "args": {"message": to_d, "other_agent_id": c["id"]}})
    send(
        http,
        a["id"],
        script({"tool": WAIT, "args": {"message": to_c, "other_agent_id": b["id"]}}),
    )
    ids = [a["id"], b["id"], c["id"], d["id"]]
    spans = receiver.wait_for(lambda s: len(_runs_of(s, set(ids))) == 4)
    runs = {r.attributes["gen_ai.agent.id"]: r for r in _runs_of(spans, set(ids))}
    assert len({r.trace_id for r in runs.values()}) == 1, "one trace across the four agents"
    by_id = _by_id(spans)
    for caller, callee in itertools.pairwise(ids):
        tool_call = by_id[runs[callee].parent_span_id]
        assert tool_call.attributes["gen_ai.tool.name"] == WAIT
        assert tool_call.parent_span_id == runs[caller].span_id
    root = by_id[runs[a["id"]].parent_span_id]
    assert root.kind == 2  # the request's server span, which has no parent here
    assert root.parent_span_id == ""


def test_an_async_delivery_runs_under_the_sending_tool_call(
    traced: tuple[httpx.Client, OtlpHttpReceiver],
) -> None:
    http, receiver = traced
    pinger = make_agent(http, tools=["send_message_to_agent_async"])
    ponger = make_agent(http, model=PONGER, tools=["send_message_to_agent_async"])
    ping = {"tool": "send_message_to_agent_async", "args": {"message": "ping"}}
    ping["args"]["other_agent_id"] = ponger["id"]
    response = http.post(
        f"/v1/agents/{pinger['id']}/messages",
        headers=CALLER,
        json={"messages": [{"role": "user", "content": script(ping)}]},
    )
    assert response.status_code == 200, response.text
    # The ping's delivery (ponger's run), and the pong's delivery back (pinger's second run).
    ids = {pinger["id"], ponger["id"]}
    spans = receiver.wait_for(lambda s: len(_runs_of(s, ids)) == 3)
    by_id = _by_id(spans)
    (pong_run,) = _runs_of(spans, {ponger["id"]})
    ping_tool = by_id[pong_run.parent_span_id]
    assert ping_tool.attributes["gen_ai.tool.name"] == "send_message_to_agent_async"
    first, second = sorted(
        _runs_of(spans, {pinger["id"]}), key=lambda s: s.span_id != ping_tool.parent_span_id
    )
    assert ping_tool.parent_span_id == first.span_id
    pong_tool = by_id[second.parent_span_id]
    assert pong_tool.parent_span_id == pong_run.span_id
    assert {s.trace_id for s in (first, pong_run, second)} == {CALLER_TRACE}
    # Each delivery (a mailbox row) carried the caller's tracestate with its traceparent.
    assert {s.trace_state for s in (first, pong_run, second)} == {CALLER_STATE}


def test_a_sleeptime_run_is_a_child_of_the_primarys_run(
    traced: tuple[httpx.Client, OtlpHttpReceiver],
) -> None:
    http, receiver = traced
    created = http.post(
        "/v1/agents/",
        json={
            "name": unique("primary"),
            "model": "test/echo",
            "memory_blocks": [{"label": "human", "value": "About the user:"}],
            "enable_sleeptime": True,
        },
    )
    assert created.status_code == 200, created.text
    primary = created.json()
    (sleeper_id,) = primary["multi_agent_group"]["agent_ids"]
    assert http.patch(f"/v1/agents/{sleeper_id}", json={"model": SLEEPER}).status_code == 200
    every_turn = {"manager_config": {"sleeptime_agent_frequency": 1}}
    group_url = f"/v1/groups/{primary['multi_agent_group']['id']}"
    assert http.patch(group_url, json=every_turn).status_code == 200
    response = http.post(
        f"/v1/agents/{primary['id']}/messages",
        headers=CALLER,
        json={"messages": [{"role": "user", "content": "I like green tea"}]},
    )
    assert response.status_code == 200, response.text
    ids = {primary["id"], sleeper_id}
    spans = receiver.wait_for(lambda s: len(_runs_of(s, ids)) == 2)
    (primary_run,) = _runs_of(spans, {primary["id"]})
    (sleeper_run,) = _runs_of(spans, {sleeper_id})
    # The hand-over is written after the primary's turn, from the mailbox, by whichever
    # worker claims it; its run is still the primary run's child, in the caller's trace.
    assert sleeper_run.parent_span_id == primary_run.span_id
    assert sleeper_run.trace_id == primary_run.trace_id == CALLER_TRACE
    assert sleeper_run.trace_state == primary_run.trace_state == CALLER_STATE  # the mailbox's
    assert sleeper_run.attributes["troupe.trace.id"] == response.json()["trace_id"]
    assert _children(spans, sleeper_run, "chat"), "the sleep-time run's own steps under it"


def test_spans_export_over_grpc_too(database_factory: Any, tmp_path: Path) -> None:
    with OtlpGrpcReceiver() as receiver:
        proc = ServerProcess(
            database_factory("sqlite"), tmp_path, env=otel_env(receiver.endpoint, "grpc")
        )
        proc.start()
        try:
            with httpx.Client(base_url=proc.url, timeout=60) as http:
                agent = make_agent(http)
                send(http, agent["id"], "hello")
            spans = receiver.wait_for(lambda s: len(_runs_of(s, {agent["id"]})) == 1)
        finally:
            proc.stop()
    (run,) = _runs_of(spans, {agent["id"]})
    (chat,) = _children(spans, run, "chat")
    assert chat.attributes["gen_ai.request.model"] == "scripted"
