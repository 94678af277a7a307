"""Letta's defaults and small request options, through both SDK lines: the block limit, the
agent name search, the tool upsert keeping tags, an agent without an embedding, the
`letta/letta-free` handle, and a request sending both `messages` and `input`."""

from typing import Any

import httpx
import pytest

from tests.server.helpers import SCRIPTED, make_agent, script, unique

LETTA_BLOCK_LIMIT = 20_000


def test_a_block_made_without_a_limit_gets_lettas_default(client: Any, legacy_client: Any) -> None:
    assert client.blocks.create(label=unique("b"), value="x").limit == LETTA_BLOCK_LIMIT
    assert legacy_client.blocks.create(label=unique("b"), value="x").limit == LETTA_BLOCK_LIMIT
    agent = client.agents.create(
        name=unique("a"), model=SCRIPTED, memory_blocks=[{"label": "human", "value": "hi"}]
    )
    assert [b.limit for b in agent.memory.blocks] == [LETTA_BLOCK_LIMIT]


def test_query_text_finds_agents_by_part_of_their_name(client: Any, legacy_client: Any) -> None:
    word = unique("Needle")
    wanted = {
        client.agents.create(name=f"the-{word}-one", model=SCRIPTED).id,
        client.agents.create(name=f"{word.lower()}-two", model=SCRIPTED).id,
    }
    client.agents.create(name=unique("hay"), model=SCRIPTED)
    assert {a.id for a in client.agents.list(query_text=word)} == wanted
    assert {a.id for a in legacy_client.agents.list(query_text=word.upper())} == wanted
    assert list(client.agents.list(query_text=f"{word}%_")) == []


SOURCE = '''
def {name}(x: int) -> int:
    """Double it.

    Args:
        x: the number
    """
    return x * 2
'''


def test_upsert_without_tags_keeps_the_tools_tags(client: Any, legacy_client: Any) -> None:
    name = unique("double").replace("-", "_")
    made = client.tools.create(source_code=SOURCE.format(name=name), tags=["math", "kept"])
    again = client.tools.upsert(source_code=SOURCE.format(name=name) + "\n# v2\n")
    assert again.id == made.id
    assert again.tags == ["math", "kept"]
    assert "# v2" in (again.source_code or "")
    legacy = legacy_client.tools.upsert(source_code=SOURCE.format(name=name))
    assert legacy.tags == ["math", "kept"]
    retagged = client.tools.upsert(source_code=SOURCE.format(name=name), tags=["new"])
    assert retagged.tags == ["new"]


def test_an_agent_without_an_embedding_shows_embedding_config_null(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(name=unique("a"), model=SCRIPTED)
    assert agent.embedding_config is None
    assert agent.embedding is None
    assert http.get(f"/v1/agents/{agent.id}").json()["embedding_config"] is None
    # The 0.1.x SDK requires the field (its model cannot even be dumped without it): that
    # SDK line reads a config naming no embedding model of a provider.
    legacy = legacy_client.agents.retrieve(agent_id=agent.id)
    assert legacy.model_dump()["embedding_config"]["embedding_dim"] == 0
    named = client.agents.create(
        name=unique("a"), model=SCRIPTED, embedding="openai/text-embedding-3-small"
    )
    assert named.embedding_config is not None
    assert named.embedding_config.embedding_model == "text-embedding-3-small"


def test_letta_free_is_accepted_at_creation(client: Any, legacy_client: Any) -> None:
    legacy = legacy_client.agents.create(name=unique("free"), model="letta/letta-free")
    assert legacy.model == "letta/letta-free"
    assert legacy.llm_config.model == "letta-free"
    current = client.agents.create(name=unique("free"), model="letta/letta-free")
    assert current.llm_config.handle == "letta/letta-free"


@pytest.mark.slow
def test_letta_free_runs_on_the_embedded_model(legacy_client: Any) -> None:
    agent = legacy_client.agents.create(name=unique("free"), model="letta/letta-free")
    response = legacy_client.agents.messages.create(
        agent_id=agent.id,
        messages=[{"role": "user", "content": "Hello!"}],
        request_options={"additional_body_parameters": {"max_steps": 1}},
    )
    assert response.stop_reason["stop_reason"] != "error", response  # 0.1.x: a plain dict
    assert response.usage.step_count == 1
    assert response.usage.completion_tokens > 0


def test_sending_both_messages_and_input_is_refused(http: httpx.Client, client: Any) -> None:
    agent = make_agent(http)
    body = {"messages": [{"role": "user", "content": "a"}], "input": "b"}
    response = http.post(f"/v1/agents/{agent['id']}/messages", json=body)
    assert response.status_code == 422
    assert "not both" in response.json()["detail"]
    from letta_client import UnprocessableEntityError

    with pytest.raises(UnprocessableEntityError):
        client.agents.messages.create(
            agent_id=agent["id"], input="b", messages=[{"role": "user", "content": "a"}]
        )
    history = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert [m["message_type"] for m in history] == ["system_message"]  # the head only


RULE_SOURCE = '''
def {name}(note: str) -> str:
    """Take a note.

    Args:
        note: the note
    """
    return "noted"
'''


def test_tool_rules_naming_a_missing_tool_are_accepted_and_inert_until_attached(
    client: Any, legacy_client: Any
) -> None:
    name = unique("notetaker").replace("-", "_")
    rules = [{"type": "run_first", "tool_name": name}]
    agent = client.agents.create(name=unique("a"), model=SCRIPTED, tool_rules=rules)
    assert [r.tool_name for r in agent.tool_rules] == [name]
    legacy = legacy_client.agents.create(name=unique("a"), model=SCRIPTED, tool_rules=rules)
    assert [r.tool_name for r in legacy.tool_rules] == [name]
    # Inert: the agent answers as if the rule were not there.
    free = client.agents.messages.create(agent_id=agent.id, input="hello")
    assert [m.message_type for m in free.messages] == ["assistant_message"]
    tool = client.tools.create(source_code=RULE_SOURCE.format(name=name))
    client.agents.tools.attach(tool.id, agent_id=agent.id)
    ruled = client.agents.messages.create(
        agent_id=agent.id,
        input=script(
            {"tool": "send_message", "args": {"message": "skipping the rule"}},
            {"tool": name, "args": {"note": "x"}},
            {"tool": "send_message", "args": {"message": "after the note"}},
        ),
    )
    # The rule holds now that the tool is attached: replying first is refused.
    returns = [m for m in ruled.messages if m.message_type == "tool_return_message"]
    assert returns[0].status == "error"
    assert "may not be called now" in returns[0].tool_return
    calls = [m.tool_call.name for m in ruled.messages if m.message_type == "tool_call_message"]
    assert name in calls
