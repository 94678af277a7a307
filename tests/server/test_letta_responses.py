"""The answer to a message, as Letta's server gives it: what the agent produced (not the
input, which the history keeps), numbered in its otids, of the types the client asked for."""

import json
import uuid
from typing import Any

import httpx

from tests.server.helpers import SCRIPTED, make_agent, script, unique, wait_for_run

TOOL_AND_REPLY = script(
    {"tool": "conversation_search", "args": {"query": "x"}},
    {"tool": "send_message", "args": {"message": "all done"}},
)


def _index(otid: str) -> int:
    """The message's index in its response, which Letta keeps in the otid's low 7 bits."""
    return uuid.UUID(otid).int & 0x7F


def _base(otid: str) -> int:
    return uuid.UUID(otid).int & ~0x7F


def test_the_answer_leaves_out_the_input_which_the_history_keeps(
    client: Any, legacy_client: Any
) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    current = client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    assert "user_message" not in [m.message_type for m in current.messages]
    legacy = legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": script({"text": "hi"})}]
    )
    assert [m.message_type for m in legacy.messages] == ["assistant_message"]
    history = [m for m in client.agents.messages.list(agent_id=agent.id)]
    said = [m.content for m in history if m.message_type == "user_message"]
    assert said == [TOOL_AND_REPLY, script({"text": "hi"})]


def test_the_stream_and_an_async_runs_messages_leave_out_the_input(
    client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    streamed = list(
        client.agents.messages.stream(
            agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
        )
    )
    kinds = [getattr(c, "message_type", None) for c in streamed]
    assert kinds == [
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
        "stop_reason",
        "usage_statistics",
    ]
    run = client.agents.messages.create_async(agent_id=agent.id, input="hello")
    wait_for_run(http, run.id)
    produced = [m.message_type for m in client.runs.messages.list(run_id=run.id)]
    assert produced == ["assistant_message"]


def test_every_message_has_an_otid_numbered_by_its_index_in_the_response(client: Any) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    response = client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    otids = [m.otid for m in response.messages]
    assert all(otids)
    assert len(set(otids)) == len(otids) == 3
    assert [_index(o) for o in otids] == [0, 1, 2]
    assert len({_base(o) for o in otids}) == 1  # one response, one base
    stored = {m.id: m.otid for m in client.agents.messages.list(agent_id=agent.id)}
    assert [stored[m.id] for m in response.messages] == otids


def test_a_clients_otid_is_kept_on_the_input_and_every_input_gets_one(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http)
    mine = str(uuid.uuid4())
    client.agents.messages.create(
        agent_id=agent["id"], messages=[{"role": "user", "content": "hello", "otid": mine}]
    )
    legacy_client.agents.messages.create(
        agent_id=agent["id"], messages=[{"role": "user", "content": "again"}]
    )
    inputs = [
        m
        for m in legacy_client.agents.messages.list(agent_id=agent["id"])
        if m.message_type == "user_message"
    ]
    assert inputs[0].otid == mine
    assert inputs[1].otid
    assert inputs[1].otid != mine


def test_include_return_message_types_narrows_every_kind_of_answer(
    client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    only = ["assistant_message"]
    response = client.agents.messages.create(
        agent_id=agent.id,
        messages=[{"role": "user", "content": TOOL_AND_REPLY}],
        include_return_message_types=only,
    )
    assert [m.message_type for m in response.messages] == ["assistant_message"]
    streamed = client.agents.messages.stream(
        agent_id=agent.id,
        messages=[{"role": "user", "content": TOOL_AND_REPLY}],
        include_return_message_types=["tool_call_message", "tool_return_message"],
    )
    kinds = [getattr(c, "message_type", None) for c in streamed]
    assert kinds == ["tool_call_message", "tool_return_message", "stop_reason", "usage_statistics"]
    run = client.agents.messages.create_async(
        agent_id=agent.id,
        messages=[{"role": "user", "content": TOOL_AND_REPLY}],
        include_return_message_types=only,
    )
    wait_for_run(http, run.id)
    assert [m.message_type for m in client.runs.messages.list(run_id=run.id)] == only
    history = http.get(f"/v1/agents/{agent.id}/messages", params={"limit": 100}).json()
    assert len([m for m in history if m["message_type"] == "tool_call_message"]) == 3
    assert json.loads(history[2]["tool_call"]["arguments"])["query"] == "x"  # after the head


PARALLEL = script(
    {
        "parallel": [
            {"tool": "conversation_search", "args": {"query": "a", "request_heartbeat": True}},
            {"tool": "archival_memory_search", "args": {"query": "b", "request_heartbeat": True}},
        ]
    },
    {"tool": "send_message", "args": {"message": "both looked up"}},
)


def test_parallel_calls_come_back_as_one_call_message_and_one_return_message(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    response = client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": PARALLEL}]
    )
    kinds = [m.message_type for m in response.messages]
    assert kinds == ["tool_call_message", "tool_return_message", "assistant_message"]
    called, returned = response.messages[0], response.messages[1]
    assert [c.name for c in called.tool_calls] == ["conversation_search", "archival_memory_search"]
    assert called.tool_call.name == "conversation_search"
    ids = [c.tool_call_id for c in called.tool_calls]
    assert [r.tool_call_id for r in returned.tool_returns] == ids
    assert returned.tool_call_id == ids[0]
    assert [_index(m.otid) for m in response.messages] == [0, 1, 2]
    history = [m for m in client.agents.messages.list(agent_id=agent.id)]
    assert [m.message_type for m in history][2:] == kinds  # after the head and the input
    legacy = legacy_client.agents.messages.list(agent_id=agent.id)
    legacy_call = next(m for m in legacy if m.message_type == "tool_call_message")
    assert legacy_call.tool_call.name == "conversation_search"
    streamed = client.agents.messages.stream(
        agent_id=agent.id, messages=[{"role": "user", "content": PARALLEL}]
    )
    kinds = [getattr(c, "message_type", None) for c in streamed]
    assert kinds[:3] == ["tool_call_message", "tool_return_message", "assistant_message"]
    run_id = response.messages[0].run_id
    run_kinds = [m["message_type"] for m in http.get(f"/v1/runs/{run_id}/messages").json()]
    assert run_kinds == ["tool_call_message", "tool_return_message", "assistant_message"]


def test_legacy_sdk_reads_a_runs_messages_of_one_role(
    legacy_client: Any, http: httpx.Client
) -> None:
    """0.1.x's `runs.list_run_messages(role=...)` keeps the messages of that role (Letta's
    `MessageRole`): the model's ("assistant": its calls and reply) or the tools' returns."""
    agent = legacy_client.agents.create(name=unique("a"), model=SCRIPTED)
    run = legacy_client.agents.messages.create_async(
        agent_id=agent.id, messages=[{"role": "user", "content": TOOL_AND_REPLY}]
    )
    wait_for_run(http, run.id)

    def kinds(**asked: Any) -> list[str]:
        return [m.message_type for m in legacy_client.runs.list_run_messages(run.id, **asked)]

    assert kinds() == ["tool_call_message", "tool_return_message", "assistant_message"]
    assert kinds(role="assistant") == ["tool_call_message", "assistant_message"]
    assert kinds(role="tool") == ["tool_return_message"]
    assert kinds(role="assistant", order="desc", limit=1) == ["assistant_message"]
    assert kinds(role="user") == []  # the input is the history's, not the run's answer
    unknown = http.get(f"/v1/runs/{run.id}/messages", params={"role": "wizard"})
    assert unknown.status_code == 422
    assert "role" in str(unknown.json()["detail"])
