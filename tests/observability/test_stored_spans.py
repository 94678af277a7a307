"""GET /v1/runs/{id}/trace and /v1/steps/{id}/trace through letta-client 1.12.1: the spans
of a run and a step, built from what troupe stores, with no exporter configured (the shared
servers export nothing)."""

import ast
from typing import Any

import httpx

from tests.server.helpers import make_agent, of_type, script, send, unique

BROADCAST = "send_message_to_agents_matching_all_tags"


def test_a_runs_spans_and_its_steps_trace_come_from_the_store(
    http: httpx.Client, client: Any
) -> None:
    team = unique("team")
    supervisor = make_agent(
        http, tags=[team], tools=[BROADCAST], memory_blocks=[{"label": "human", "value": ""}]
    )
    workers = [make_agent(http, tags=[team, "worker"]) for _ in range(2)]
    result = send(
        http,
        supervisor["id"],
        script(
            {"tool": BROADCAST, "args": {"message": "go", "tags": [team, "worker"]}},
            {"tool": "core_memory_append", "args": {"label": "nowhere", "content": "x"}},
            {"tool": "send_message", "args": {"message": "summary"}},
        ),
    )
    run_id = result["messages"][0]["run_id"]
    spans = client.runs.trace.retrieve(run_id)
    run_span, *rest = spans
    assert run_span["SpanName"] == f"invoke_agent {supervisor['name']}"
    assert run_span["ParentSpanId"] == ""
    attributes = run_span["SpanAttributes"]
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attributes["gen_ai.agent.id"] == supervisor["id"]
    assert attributes["gen_ai.response.finish_reasons"] == "end_turn"
    assert attributes["gen_ai.usage.input_tokens"] == "30"
    assert run_span["StatusCode"] == "STATUS_CODE_OK"
    chats = [s for s in rest if s["SpanAttributes"]["gen_ai.operation.name"] == "chat"]
    tools = [s for s in rest if s["SpanAttributes"]["gen_ai.operation.name"] == "execute_tool"]
    assert len(chats) == 3
    assert {s["ParentSpanId"] for s in rest} == {run_span["SpanId"]}
    assert {s["TraceId"] for s in spans} == {run_span["TraceId"]}
    assert [t["SpanName"] for t in tools] == [
        f"execute_tool {BROADCAST}",
        "execute_tool core_memory_append",
    ]
    assert [t["StatusCode"] for t in tools] == ["STATUS_CODE_OK", "STATUS_CODE_ERROR"]
    assert tools[1]["SpanAttributes"]["error.type"] == "troupe.tool_error"
    assert client.runs.trace.retrieve(run_id, limit=2) == spans[:2]

    # A worker's run is a child of the supervisor's, in the same trace.
    entries = ast.literal_eval(of_type(result, "tool_return_message")[0]["tool_return"])
    assert len(entries) == len(workers)
    trace_id = http.get(f"/v1/runs/{run_id}").json()["trace_id"]
    trace = http.get(f"/v1/traces/{trace_id}").json()
    child_run = trace["runs"][0]["children"][0]["id"]
    child_span = client.runs.trace.retrieve(child_run)[0]
    assert child_span["ParentSpanId"] == run_span["SpanId"]
    assert child_span["TraceId"] == run_span["TraceId"]

    # The first step's provider trace: its input, usage, output and spans.
    step_id = chats[0]["SpanAttributes"]["troupe.step.id"]
    step = client.steps.trace.retrieve(step_id)
    assert step.step_id == step_id
    assert step.run_id == run_id
    assert step.agent_id == supervisor["id"]
    assert step.request_json["model"] == "scripted"
    (user,) = step.request_json["input"]
    assert user["message_type"] == "user_message"
    assert "SCRIPT" in user["content"]
    assert step.response_json["usage"]["prompt_tokens"] == 10
    output_types = [m["message_type"] for m in step.response_json["output"]]
    assert output_types == ["tool_call_message", "tool_return_message"]
    names = [s["SpanName"] for s in step.model_extra["spans"]]
    assert names == ["chat scripted", f"execute_tool {BROADCAST}"]


def test_trace_of_an_unknown_run_or_step_is_404(http: httpx.Client) -> None:
    assert http.get("/v1/runs/run-nope/trace").status_code == 404
    assert http.get("/v1/steps/step-nope/trace").status_code == 404
    assert http.get("/v1/runs/run-nope/trace", params={"limit": 0}).status_code == 422


def test_a_run_the_provider_failed_is_an_error_span_with_lettas_stop_reason(
    http: httpx.Client, client: Any
) -> None:
    agent = make_agent(http, model="test/function:tests.support.models:unreachable")
    result = send(http, agent["id"], "hello?")
    (run_span,) = client.runs.trace.retrieve(result["run_id"])  # no step was stored
    assert run_span["SpanAttributes"]["gen_ai.response.finish_reasons"] == "llm_api_error"
    assert run_span["StatusCode"] == "STATUS_CODE_ERROR"
    assert "HTTP 503" in run_span["StatusMessage"]
