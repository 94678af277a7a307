"""Steps through both SDK lines: each model call of a run, its messages, its timings (model,
tools, store) and feedback on it; and 0.1.x's jobs, the older name of runs."""

from functools import partial
from typing import Any

import httpx

from tests.server.helpers import make_agent, script, send
from tests.server.test_cancel import SLOW, start_async, wait_for

LATENCY_MS = 40


def two_step_turn(http: httpx.Client) -> tuple[dict[str, Any], str]:
    """An agent's turn of two steps (a memory edit, then the reply): the agent and run id."""
    agent = make_agent(
        http,
        model=f"test/scripted@{LATENCY_MS}ms",
        memory_blocks=[{"label": "human", "value": "notes:"}],
    )
    result = send(
        http,
        agent["id"],
        script(
            {"tool": "core_memory_append", "args": {"label": "human", "content": "likes tea"}},
            {"tool": "send_message", "args": {"message": "noted"}},
        ),
    )
    return agent, result["run_id"]


def test_steps_name_their_run_for_both_sdk_lines(
    http: httpx.Client, client: Any, legacy_client: Any
) -> None:
    agent, run_id = two_step_turn(http)
    listed = client.steps.list(agent_id=agent["id"], order="asc").items
    assert len(listed) == 2
    assert {s.run_id for s in listed} == {run_id}
    assert [s.id for s in client.runs.steps.list(run_id).items] == [s.id for s in listed]
    first = client.steps.retrieve(listed[0].id)
    assert (first.agent_id, first.model, first.status) == (agent["id"], agent["model"], "success")
    assert first.trace_id == http.get(f"/v1/runs/{run_id}").json()["trace_id"]
    legacy = legacy_client.steps.retrieve_step(listed[0].id)
    assert legacy.job_id == run_id
    legacy_ids = [s.id for s in legacy_client.steps.list_steps(agent_id=agent["id"])]
    assert sorted(legacy_ids) == sorted(s.id for s in listed)


def test_a_steps_messages_are_the_ones_it_produced(http: httpx.Client, client: Any) -> None:
    _, run_id = two_step_turn(http)
    first, second = client.runs.steps.list(run_id, order="asc").items
    kinds = [m.message_type for m in client.steps.messages.list(first.id).items]
    assert "tool_call_message" in kinds
    assert "tool_return_message" in kinds
    replies = [
        m.content
        for m in client.steps.messages.list(second.id).items
        if m.message_type == "assistant_message"
    ]
    assert replies == ["noted"]


def _stored_metrics(http: httpx.Client, step_id: str) -> dict[str, Any] | None:
    metrics: dict[str, Any] = http.get(f"/v1/steps/{step_id}/metrics").json()
    return metrics if metrics["store_ms"] is not None else None


def test_step_metrics_record_model_tools_and_store_times(http: httpx.Client, client: Any) -> None:
    _, run_id = two_step_turn(http)
    for step in client.runs.steps.list(run_id).items:
        metrics = client.steps.metrics.retrieve(step.id)
        assert metrics.run_id == run_id
        # The model waits LATENCY_MS before it answers: the recorded time shows that wait
        # (half of it at least: a timer may fire a little early, and ms are truncated).
        assert metrics.llm_request_ns >= LATENCY_MS // 2 * 1_000_000
        assert metrics.tool_execution_ns is not None
        assert metrics.step_ns >= metrics.llm_request_ns
        # A step's store time is known once it committed, so it is stored afterwards (by
        # the executor's maintenance round, or before metrics are read).
        raw = wait_for(partial(_stored_metrics, http, step.id), "the step's store time")
        assert raw["tools_ms"] is not None


def test_feedback_is_recorded_filtered_on_and_taken_back(http: httpx.Client, client: Any) -> None:
    agent, run_id = two_step_turn(http)
    first, second = client.runs.steps.list(run_id, order="asc").items
    liked = client.steps.feedback.create(first.id, feedback="positive", tags=["helpful"])
    assert (liked.feedback, liked.tags) == ("positive", ["helpful"])
    with_feedback = client.steps.list(agent_id=agent["id"], has_feedback=True).items
    assert [s.id for s in with_feedback] == [first.id]
    assert client.steps.list(agent_id=agent["id"], feedback="negative").items == []
    assert [s.id for s in client.steps.list(agent_id=agent["id"], tags=["helpful"]).items] == [
        first.id
    ]
    without = client.steps.list(agent_id=agent["id"], has_feedback=False).items
    assert [s.id for s in without] == [second.id]
    taken_back = http.patch(f"/v1/steps/{first.id}/feedback", json={"feedback": None})
    assert taken_back.json()["feedback"] is None


def test_bad_step_requests_are_refused_and_change_nothing(http: httpx.Client) -> None:
    _, run_id = two_step_turn(http)
    step = http.get(f"/v1/runs/{run_id}/steps").json()[0]
    for path in ("", "/messages", "/metrics"):
        assert http.get(f"/v1/steps/step-nope{path}").status_code == 404
    assert (
        http.patch("/v1/steps/step-nope/feedback", json={"feedback": "positive"}).status_code == 404
    )
    meh = http.patch(f"/v1/steps/{step['id']}/feedback", json={"feedback": "meh"})
    assert meh.status_code == 422
    assert http.get(f"/v1/steps/{step['id']}").json()["feedback"] is None
    when = http.get("/v1/steps", params={"start_date": "yesterday"})
    assert when.status_code == 422
    assert "start_date" in when.json()["detail"]


def test_legacy_jobs_are_runs(http: httpx.Client, legacy_client: Any) -> None:
    agent = make_agent(http, model=SLOW)
    run_id = start_async(http, agent["id"], "slow job")
    assert run_id in [j.id for j in legacy_client.jobs.list_active()]
    assert legacy_client.jobs.retrieve(run_id).status == "running"
    assert run_id in [j.id for j in legacy_client.jobs.list()]
    assert legacy_client.jobs.delete(run_id).status == "cancelled"
    wait_for(lambda: run_id not in [j.id for j in legacy_client.jobs.list_active()], "the end")
    legacy_client.jobs.delete(run_id)
    assert http.get(f"/v1/jobs/{run_id}").status_code == 404
