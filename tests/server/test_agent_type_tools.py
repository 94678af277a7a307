"""The built-in tools a new agent gets by default follow its agent_type, as in Letta's final
server: a letta_v1_agent answers in plain text with no send_message, memgpt_v2_agent has the
v2 memory tools, react and workflow agents none; memgpt_agent (the default) keeps troupe's
base set. Through both SDK lines, on SQLite and PostgreSQL."""

from typing import Any

from tests.server.helpers import script, unique

MEMGPT_BASE = {
    "send_message",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
    "core_memory_append",
    "core_memory_replace",
}


def _tools(agent: Any) -> set[str]:
    return {t.name for t in agent.tools}


def test_each_agent_type_gets_lettas_default_tools(client: Any) -> None:
    def made(**fields: Any) -> Any:
        return client.agents.create(name=unique("typed"), model="test/scripted", **fields)

    v1 = made(agent_type="letta_v1_agent")
    assert v1.agent_type == "letta_v1_agent"
    assert _tools(v1) == {"conversation_search", "memory_insert", "memory_replace"}
    assert "send_message" not in v1.system
    assert "plain text" in v1.system
    assert _tools(made(agent_type="memgpt_v2_agent")) == {
        "send_message",
        "conversation_search",
        "memory_insert",
        "memory_replace",
    }
    assert _tools(made(agent_type="react_agent")) == set()
    assert _tools(made(agent_type="workflow_agent")) == set()
    assert _tools(made(agent_type="sleeptime_agent")) == {
        "memory_insert",
        "memory_replace",
        "memory_rethink",
        "memory_finish_edits",
    }
    default = made()
    assert default.agent_type == "memgpt_agent"
    assert _tools(default) == MEMGPT_BASE  # unchanged
    assert "send_message" in default.system
    assert _tools(made(agent_type="memgpt_agent")) == MEMGPT_BASE
    # What the request names is added to the type's set; without base tools, only that.
    extra = made(agent_type="letta_v1_agent", tools=["archival_memory_search"])
    assert "archival_memory_search" in _tools(extra)
    assert "send_message" not in _tools(extra)
    bare = made(agent_type="letta_v1_agent", include_base_tools=False, tools=["memory_rethink"])
    assert _tools(bare) == {"memory_rethink"}
    told = made(agent_type="letta_v1_agent", system="You are terse.")
    assert told.system == "You are terse."


def test_a_v1_agent_edits_memory_and_answers_in_plain_text(client: Any) -> None:
    agent = client.agents.create(
        name=unique("v1"),
        model="test/scripted",
        agent_type="letta_v1_agent",
        memory_blocks=[{"label": "human", "value": "Name: unknown"}],
    )
    steps = [
        {
            "tool": "memory_replace",
            "args": {"label": "human", "old_str": "unknown", "new_str": "Ana"},
        },
        {"text": "Nice to meet you, Ana."},
    ]
    reply = client.agents.messages.create(
        agent.id, messages=[{"role": "user", "content": script(*steps)}]
    )
    kinds = [m.message_type for m in reply.messages]
    assert kinds == ["tool_call_message", "tool_return_message", "assistant_message"]
    assert reply.messages[1].status == "success"
    assert reply.messages[-1].content == "Nice to meet you, Ana."
    assert reply.stop_reason.stop_reason == "end_turn"
    block = client.agents.blocks.retrieve("human", agent_id=agent.id)
    assert block.value == "Name: Ana"


def test_a_v1_agent_goes_on_after_every_tool_call_without_a_heartbeat(
    client: Any, http: Any
) -> None:
    """Letta's v1 loop: no request_heartbeat is offered, and a tool call never ends the turn
    by itself (a MemGPT agent's call without the flag would end it without an answer)."""
    agent = client.agents.create(
        name=unique("v1"),
        model="test/scripted",
        agent_type="letta_v1_agent",
        memory_blocks=[{"label": "human", "value": "Name: unknown"}],
    )
    context = http.get(f"/v1/agents/{agent.id}/context")
    assert context.status_code == 200, context.text
    offered = context.json()["functions_definitions"]
    assert {f["function"]["name"] for f in offered} == _tools(agent)
    for function in offered:
        assert "request_heartbeat" not in function["function"]["parameters"]["properties"]
    steps = [
        {
            "tool": "memory_replace",
            "args": {"label": "human", "old_str": "unknown", "new_str": "Ana"},
            "heartbeat": False,
        },
        {"tool": "conversation_search", "args": {"query": "Ana"}, "heartbeat": False},
        {"text": "Nice to meet you, Ana."},
    ]
    reply = client.agents.messages.create(
        agent.id, messages=[{"role": "user", "content": script(*steps)}]
    )
    assert [m.message_type for m in reply.messages if m.message_type != "reasoning_message"] == [
        "tool_call_message",
        "tool_return_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    ]
    assert reply.messages[-1].content == "Nice to meet you, Ana."
    assert reply.stop_reason.stop_reason == "end_turn"
    # A MemGPT agent still ends its turn at a call that asked for no heartbeat.
    memgpt = client.agents.create(
        name=unique("memgpt"),
        model="test/scripted",
        memory_blocks=[{"label": "human", "value": "Name: unknown"}],
    )
    context = http.get(f"/v1/agents/{memgpt.id}/context").json()
    replace = [
        f
        for f in context["functions_definitions"]
        if f["function"]["name"] == "core_memory_replace"
    ]
    assert "request_heartbeat" in replace[0]["function"]["parameters"]["properties"]
    steps[0] = {
        "tool": "core_memory_replace",
        "args": {"label": "human", "old_content": "unknown", "new_content": "Ana"},
        "heartbeat": False,
    }
    ended = client.agents.messages.create(
        memgpt.id, messages=[{"role": "user", "content": script(*steps)}]
    )
    assert [m.message_type for m in ended.messages] == ["tool_call_message", "tool_return_message"]


def test_memory_finish_edits_ends_a_sleeptime_agents_turn(client: Any) -> None:
    agent = client.agents.create(
        name=unique("sleeper"),
        model="test/scripted",
        agent_type="sleeptime_agent",
        memory_blocks=[{"label": "notes", "value": "a"}],
    )
    steps = [
        {"tool": "memory_insert", "args": {"label": "notes", "new_str": "b"}},
        {"tool": "memory_finish_edits", "args": {}},
        {"tool": "memory_rethink", "args": {"label": "notes", "new_memory": "never"}},
    ]
    reply = client.agents.messages.create(
        agent.id, messages=[{"role": "user", "content": script(*steps)}]
    )
    returns = [m for m in reply.messages if m.message_type == "tool_return_message"]
    assert [(r.status, r.tool_return) for r in returns][1:] == [("success", "None")]
    assert reply.stop_reason.stop_reason == "end_turn"
    assert client.agents.blocks.retrieve("notes", agent_id=agent.id).value == "a\nb"


def test_the_legacy_sdk_gets_the_same_defaults(legacy_client: Any) -> None:
    v2 = legacy_client.agents.create(
        name=unique("typed"), model="test/scripted", agent_type="memgpt_v2_agent"
    )
    assert {t.name for t in v2.tools} == {
        "send_message",
        "conversation_search",
        "memory_insert",
        "memory_replace",
    }
    plain = legacy_client.agents.create(name=unique("typed"), model="test/scripted")
    assert {t.name for t in plain.tools} == MEMGPT_BASE
    # Letta's final multi-agent set, and the all-tags broadcast of its earlier one.
    team = legacy_client.agents.create(
        name=unique("team"),
        model="test/scripted",
        include_base_tools=False,
        include_multi_agent_tools=True,
    )
    assert {t.name for t in team.tools} == {
        "send_message_to_agent_and_wait_for_reply",
        "send_message_to_agents_matching_tags",
        "send_message_to_agent_async",
        "send_message_to_agents_matching_all_tags",
    }
