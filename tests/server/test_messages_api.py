"""Message endpoints through both SDK lines and plain HTTP: sync, SSE stream, async runs,
history paging; every message type readable by both SDKs."""

import json
from typing import Any

import httpx

from tests.server.helpers import SCRIPTED, make_agent, script, send, unique, wait_for_run

ALL_TYPES_SCRIPT = script(
    {"text": "thinking"},
)
TOOL_AND_REPLY = script(
    {"tool": "conversation_search", "args": {"query": "x"}},
    {"tool": "send_message", "args": {"message": "all done"}},
)


def test_current_sdk_sends_and_reads_every_message_type(client: Any) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    response = client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    kinds = [m.message_type for m in response.messages]
    assert kinds == [
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    ]
    assert response.messages[-1].content == "all done"
    assert response.stop_reason.stop_reason == "end_turn"
    assert response.usage.step_count == 2
    history = list(client.agents.messages.list(agent_id=agent.id))
    assert history[0].message_type == "system_message"  # Letta's history starts with it
    assert history[1].message_type == "user_message"  # kept, though not echoed
    assert [m.id for m in history[2:]] == [m.id for m in response.messages]


def test_current_sdk_accepts_input_instead_of_messages(client: Any) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    response = client.agents.messages.create(agent_id=agent.id, input="hello there")
    assert [m.message_type for m in response.messages] == ["assistant_message"]
    assert response.messages[-1].content == "ack: hello there"


def test_legacy_sdk_reads_every_message_type(legacy_client: Any) -> None:
    agent = legacy_client.agents.create(name=unique("a"), model=SCRIPTED)
    response = legacy_client.agents.messages.create(
        agent_id=agent.id,
        messages=[{"role": "user", "content": script({"text": "plain reply"})}],
    )
    assert [m.message_type for m in response.messages] == ["assistant_message"]
    legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    history = legacy_client.agents.messages.list(agent_id=agent.id, limit=100)
    kinds = {m.message_type for m in history}
    assert kinds >= {
        "user_message",
        "assistant_message",
        "tool_call_message",
        "tool_return_message",
    }
    call = next(m for m in history if m.message_type == "tool_call_message")
    assert json.loads(call.tool_call.arguments)["query"] == "x"
    returned = next(m for m in history if m.message_type == "tool_return_message")
    assert returned.status == "success"


def _stream(http: httpx.Client, agent_id: str, text: str) -> list[dict[str, Any]]:
    """The events of a streamed turn, checked to be SSE ending in [DONE]."""
    with http.stream(
        "POST",
        f"/v1/agents/{agent_id}/messages/stream",
        json={"messages": [{"role": "user", "content": text}]},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")
        ]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_stream_sends_each_message_then_stop_reason_usage_and_done(http: httpx.Client) -> None:
    decoded = _stream(http, make_agent(http)["id"], TOOL_AND_REPLY)
    assert [d["message_type"] for d in decoded] == [
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
        "stop_reason",
        "usage_statistics",
    ]


def test_a_failed_turn_streams_why_it_failed_and_keeps_its_input(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/function:tests.support.models:broken")
    decoded = _stream(http, agent["id"], "are you there?")
    assert [d["message_type"] for d in decoded] == [
        "error_message",
        "stop_reason",
        "usage_statistics",
    ]
    assert "the model is down" in decoded[0]["message"]
    assert decoded[1]["stop_reason"] == "error"
    history = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert [m["content"] for m in history if m["message_type"] == "user_message"] == [
        "are you there?"
    ]
    assert history[-1]["run_id"] == decoded[0]["run_id"]


def test_current_sdk_reads_a_failed_turns_stream(client: Any) -> None:
    agent = client.agents.create(
        name=unique("a"), model="test/function:tests.support.models:broken"
    )
    chunks = list(
        client.agents.messages.stream(
            agent_id=agent.id, messages=[{"role": "user", "content": "hello?"}]
        )
    )
    errors = [c for c in chunks if getattr(c, "message_type", None) == "error_message"]
    assert len(errors) == 1
    assert "the model is down" in errors[0].message
    assert chunks[-2].stop_reason == "error"


def test_a_failed_runs_reason_is_in_its_metadata_where_both_sdks_read_it(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    """A turn answered in full has no field for why it failed in letta-client 1.x (its
    `LettaResponse` reads messages, stop reason and usage), nor has its `Run` an `error`:
    as in Letta, the reason is the run's `metadata["error"]`."""
    agent = client.agents.create(
        name=unique("a"), model="test/function:tests.support.models:broken"
    )
    answer = client.agents.messages.create(agent.id, input="are you there?")
    assert answer.stop_reason.stop_reason == "error"
    (run,) = client.runs.list(agent_id=agent.id)
    assert run.status == "failed"
    assert run.stop_reason == "error"
    assert "the model is down" in run.metadata["error"]
    assert client.runs.retrieve(run.id).metadata == run.metadata
    assert legacy_client.runs.retrieve_run(run.id).metadata == run.metadata
    started = client.agents.messages.create_async(agent.id, input="still there?")
    assert started.metadata is None  # not failed (yet)
    wait_for_run(http, started.id)
    assert "the model is down" in client.runs.retrieve(started.id).metadata["error"]
    fine = client.agents.create(name=unique("a"), model="test/echo")
    client.agents.messages.create(fine.id, input="hi")
    (completed,) = client.runs.list(agent_id=fine.id)
    assert completed.metadata is None


def test_current_sdk_streams(client: Any) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    stream = client.agents.messages.stream(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    kinds = [getattr(chunk, "message_type", None) for chunk in stream]
    assert "assistant_message" in kinds
    assert kinds[-2:] == ["stop_reason", "usage_statistics"]


def test_async_message_becomes_a_run_that_completes(http: httpx.Client, client: Any) -> None:
    agent = make_agent(http)
    run = client.agents.messages.create_async(
        agent_id=agent["id"], messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    assert run.status in {"created", "running", "completed"}
    finished = wait_for_run(http, run.id)
    assert finished["status"] == "completed"
    assert finished["stop_reason"] == "end_turn"
    messages = http.get(f"/v1/runs/{run.id}/messages").json()
    assert messages[-1]["content"] == "all done"
    assert client.runs.retrieve(run.id).status == "completed"


def test_history_pages_newest_window_and_cursors(http: httpx.Client) -> None:
    agent = make_agent(http)
    for i in range(4):
        send(http, agent["id"], f"message {i}")  # two messages each: user + reply
    everything = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 100}).json()
    assert len(everything) == 9  # the system message, then two per turn
    newest = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 3}).json()
    assert [m["id"] for m in newest] == [m["id"] for m in everything[-3:]]
    after = http.get(
        f"/v1/agents/{agent['id']}/messages",
        params={"limit": 2, "after": everything[1]["id"], "order": "asc"},
    ).json()
    assert [m["id"] for m in after] == [m["id"] for m in everything[2:4]]
    backwards = http.get(
        f"/v1/agents/{agent['id']}/messages",
        params={"limit": 2, "after": everything[4]["id"], "order": "desc"},
    ).json()
    assert [m["id"] for m in backwards] == [everything[3]["id"], everything[2]["id"]]


def test_bad_message_requests_are_refused_and_leave_no_trace(http: httpx.Client) -> None:
    agent = make_agent(http)
    url = f"/v1/agents/{agent['id']}/messages"
    for body in (
        {},
        {"messages": []},
        {"messages": [{"role": "user", "content": ""}]},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "hi"}], "max_steps": 0},
    ):
        response = http.post(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert "detail" in response.json()
    assert http.post("/v1/agents/agent-missing/messages", json={"input": "hi"}).status_code == 404
    assert [m["message_type"] for m in http.get(url).json()] == ["system_message"]


def test_a_response_names_its_run_and_trace_for_both_sdks_and_plain_http(
    http: httpx.Client, client: Any, legacy_client: Any
) -> None:
    """troupe's `run_id` / `trace_id` on the Letta response (headers too), so a caller can
    fetch GET /v1/traces/{trace_id} for what its request caused."""
    agent = make_agent(http, model="test/echo")
    plain = http.post(
        f"/v1/agents/{agent['id']}/messages",
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    body = plain.json()
    assert plain.headers["x-troupe-trace-id"] == body["trace_id"]
    assert plain.headers["x-troupe-run-id"] == body["run_id"]
    assert http.get(f"/v1/runs/{body['run_id']}").json()["trace_id"] == body["trace_id"]
    assert http.get(f"/v1/traces/{body['trace_id']}").status_code == 200
    with http.stream(
        "POST",
        f"/v1/agents/{agent['id']}/messages/stream",
        json={"messages": [{"role": "user", "content": "hi"}]},
    ) as streamed:
        streamed.read()
        assert streamed.headers["x-troupe-trace-id"].startswith("trace-")
    for sdk in (client, legacy_client):
        response = sdk.agents.messages.create(
            agent_id=agent["id"], messages=[{"role": "user", "content": "hi"}]
        )
        assert str(response.trace_id).startswith("trace-")
        assert http.get(f"/v1/traces/{response.trace_id}").status_code == 200


def test_current_sdk_auto_pages_a_runs_messages_and_steps_to_the_end(
    http: httpx.Client, client: Any
) -> None:
    agent = make_agent(http)
    reply = send(http, agent["id"], TOOL_AND_REPLY)
    run_id = reply["messages"][0]["run_id"]
    # Plain iteration asks again with `after` until a page comes back empty: it must end.
    messages = [m.id for m in client.runs.messages.list(run_id=run_id, limit=1)]
    assert messages == [m["id"] for m in reply["messages"]]
    steps = list(client.runs.steps.list(run_id=run_id, limit=1))
    assert len(steps) == reply["usage"]["step_count"] == 2
    newest_first = http.get(f"/v1/runs/{run_id}/messages", params={"order": "desc"}).json()
    assert [m["id"] for m in newest_first] == messages[::-1]


def test_current_sdk_filters_runs_by_agents_and_statuses(http: httpx.Client, client: Any) -> None:
    done, broken = (
        make_agent(http),
        make_agent(http, model="test/function:tests.support.models:broken"),
    )
    send(http, done["id"], "hello")
    send(http, broken["id"], "hello")
    by_agent = client.runs.list(agent_ids=[done["id"]])
    assert {r.agent_id for r in by_agent} == {done["id"]}
    failed = client.runs.list(agent_ids=[done["id"], broken["id"]], statuses=["failed"])
    assert [(r.agent_id, r.status) for r in failed] == [(broken["id"], "failed")]
    assert http.get("/v1/runs/", params={"agent_id": broken["id"], "stop_reason": "error"}).json()


def test_bad_bodies_get_fastapis_own_answers_on_the_message_routes(http: httpx.Client) -> None:
    """The message routes validate an ordinary JSON body in one step
    (troupe/server/json_routes.py); every other body must still get FastAPI's answer, word
    for word: the same as a group's message route, which takes the same body through
    FastAPI's handler. Nothing is stored."""
    agent = make_agent(http)
    group = "group-00000000-0000-0000-0000-000000000000"  # bodies are checked before the id
    message = b'{"messages": [{"role": "user", "content": "hi"}]}'
    cases = [
        ("application/json", b""),
        ("application/json", b'{"messages": [{"role": "user", "content": "hi"}'),
        ("application/json", b"[1, 2]"),
        ("application/json", b'"just a string"'),
        ("application/json", b'{"messages": [{"role": "user", "content": "a\\ud800"}]}'),
        (
            "application/json",
            b'{"messages": [{"role": "user", "content": "hi"}], "max_steps": NaN}',
        ),
        ("application/json", b'{"input": "hi", "max_steps": "many"}'),
        ("application/json", b"\xff\xfe"),
        ("application/json", b"[" * 5000 + b"]" * 5000),
        ("text/plain", message),
        ("application/x-www-form-urlencoded", b"input=hi"),
    ]
    for content_type, body in cases:
        answers = [
            http.post(url, content=body, headers={"content-type": content_type})
            for url in (f"/v1/agents/{agent['id']}/messages", f"/v1/groups/{group}/messages")
        ]
        ours, fastapis = answers
        assert 400 <= ours.status_code < 500, (content_type, body[:60], ours.text)
        assert (ours.status_code, ours.json()) == (fastapis.status_code, fastapis.json()), body[:60]
    # Declared JSON with a charset, or another JSON type: FastAPI's way, answered as usual.
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        answer = http.post(
            f"/v1/agents/{agent['id']}/messages",
            content=message,
            headers={"content-type": content_type},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-troupe-run-id"] == answer.json()["run_id"]
    history = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert [m["message_type"] for m in history].count("user_message") == 2
