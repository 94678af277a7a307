"""Routes of both SDK lines beyond an agent's own: messages across agents (list, one,
search), tool search, recompile; 0.1.x agent search and the edit of a stored message."""

from typing import Any

import httpx
import pytest
from letta_client import NotFoundError

from tests.server.helpers import SCRIPTED, script, unique
from tests.support.sdks import legacy_sdk


def _talk(client: Any, agent_id: str, text: str) -> Any:
    return client.agents.messages.create(
        agent_id=agent_id, messages=[{"role": "user", "content": text}]
    )


def test_messages_across_agents_are_listed_read_and_searched(client: Any) -> None:
    word = unique("zebra")
    first = client.agents.create(name=unique("a"), model=SCRIPTED)
    second = client.agents.create(name=unique("b"), model=SCRIPTED)
    _talk(client, first.id, script({"text": f"the {word} runs"}))
    _talk(client, second.id, script({"text": f"no stripes, {word.upper()} here"}))
    newest = list(client.messages.list(limit=4))
    assert {m.message_type for m in newest} >= {"assistant_message"}
    reply = next(m for m in newest if m.message_type == "assistant_message")
    (one,) = client.messages.retrieve(reply.id)
    assert one.id == reply.id
    assert one.content == reply.content
    only = client.messages.list(limit=50, include_return_message_types=["user_message"])
    assert {m.message_type for m in only} == {"user_message"}
    found = client.messages.search(query=word)
    assert {(r.agent_id, r.message_type) for r in found} >= {
        (first.id, "assistant_message"),
        (second.id, "assistant_message"),
    }
    assert all(word in (r.content or "").lower() for r in found)
    narrowed = client.messages.search(query=word, agent_id=first.id, search_mode="fts")
    assert {r.agent_id for r in narrowed} == {first.id}
    with pytest.raises(NotFoundError):
        client.messages.retrieve("message-00000000-0000-0000-0000-000000000000")


SOURCE = '''
def {name}(city: str) -> str:
    """{doc}

    Args:
        city: the city
    """
    return city
'''


def test_tools_are_found_by_the_words_of_their_name_and_description(client: Any) -> None:
    tag = unique("geo")
    weather = unique("weather_report").replace("-", "_")
    client.tools.create(
        source_code=SOURCE.format(name=weather, doc="Tell the forecast for a city."), tags=[tag]
    )
    other = unique("ferry").replace("-", "_")
    client.tools.create(source_code=SOURCE.format(name=other, doc="Book a ferry."), tags=[tag])
    found = client.tools.search(query="forecast city", tags=[tag])
    assert [r.tool.name for r in found] == [weather]
    assert found[0].combined_score > 0
    custom = client.tools.search(tags=[tag], tool_types=["custom"])
    assert {r.tool.name for r in custom} == {weather, other}
    assert client.tools.search(query="memory", tool_types=["letta_core"]) is not None


def test_recompile_gives_the_system_prompt_with_the_blocks_as_they_are(client: Any) -> None:
    agent = client.agents.create(
        name=unique("a"),
        model=SCRIPTED,
        system="You are terse.",
        memory_blocks=[{"label": "human", "value": "likes tea"}],
    )
    compiled = client.agents.recompile(agent.id)
    assert compiled.startswith("You are terse.")
    assert "likes tea" in compiled
    client.agents.blocks.update("human", agent_id=agent.id, value="likes coffee")
    assert "likes coffee" in client.agents.recompile(agent.id, dry_run=True)
    with pytest.raises(NotFoundError):
        client.agents.recompile("agent-00000000-0000-0000-0000-000000000000")


def test_legacy_sdk_searches_agents_by_name_and_tags(legacy_client: Any) -> None:
    tag = unique("crew")
    names = [unique("scout"), unique("scout"), unique("cook")]
    made = [legacy_client.agents.create(name=n, model=SCRIPTED, tags=[tag]) for n in names]
    found = legacy_client.agents.search(
        search=[
            {"field": "name", "operator": "contains", "value": "scout"},
            {"field": "tags", "operator": "contains", "value": [tag]},
        ]
    )
    assert [a.id for a in found.agents] == [a.id for a in made[:2]]
    exact = legacy_client.agents.search(
        search=[{"field": "name", "operator": "eq", "value": names[2]}]
    )
    assert [a.id for a in exact.agents] == [made[2].id]
    page = legacy_client.agents.search(
        search=[{"field": "tags", "operator": "contains", "value": [tag]}], limit=2
    )
    assert len(page.agents) == 2
    assert page.next_cursor == page.agents[-1].id
    rest = legacy_client.agents.search(
        search=[{"field": "tags", "operator": "contains", "value": [tag]}],
        limit=2,
        after=page.next_cursor,
    )
    assert [a.id for a in rest.agents] == [made[2].id]


def test_legacy_sdk_edits_a_stored_message(legacy_client: Any, http: httpx.Client) -> None:
    types = legacy_sdk().types
    agent = legacy_client.agents.create(name=unique("a"), model=SCRIPTED)
    legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": script({"text": "hello"})}]
    )
    history = legacy_client.agents.messages.list(agent_id=agent.id)
    said = next(m for m in history if m.message_type == "user_message")
    edited = legacy_client.agents.messages.modify(
        agent_id=agent.id,
        message_id=said.id,
        request=types.UpdateUserMessage(content="hello, edited"),
    )
    assert edited.content == "hello, edited"
    again = http.get(f"/v1/agents/{agent.id}/messages").json()
    assert [m["content"] for m in again if m["id"] == said.id] == ["hello, edited"]
    reply = next(m for m in history if m.message_type == "assistant_message")
    wrong = http.patch(
        f"/v1/agents/{agent.id}/messages/{reply.id}",
        json={"message_type": "user_message", "content": "x"},
    )
    assert wrong.status_code == 422
    assert "assistant_message" in wrong.json()["detail"]
    other = legacy_client.agents.create(name=unique("b"), model=SCRIPTED)
    elsewhere = http.patch(
        f"/v1/agents/{other.id}/messages/{said.id}", json={"content": "not yours"}
    )
    assert elsewhere.status_code == 404


def test_legacy_sdk_edits_reasoning_only_on_a_reasoning_message(legacy_client: Any) -> None:
    """The 0.1.x SDK's update types send no `message_type`: `UpdateReasoningMessage` is
    `{"reasoning": ...}`, the others `{"content": ...}`. Letta kept a turn's reasoning and
    reply in one row; troupe keeps each apart, so a reasoning edit sent to the reply (or a
    reply's to the reasoning) would rewrite the wrong text: it is refused, changing nothing."""
    types = legacy_sdk().types
    api_error = legacy_sdk().core.api_error.ApiError
    agent = legacy_client.agents.create(
        name=unique("a"),
        model="test/function:tests.support.models:note_taker",  # a thought beside its call
        memory_blocks=[{"label": "human", "value": ""}],
    )
    legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": "Remember: tea, no sugar"}]
    )
    history = legacy_client.agents.messages.list(agent_id=agent.id)
    thought = next(m for m in history if m.message_type == "reasoning_message")
    reply = next(m for m in history if m.message_type == "assistant_message")

    with pytest.raises(api_error) as refused:
        legacy_client.agents.messages.modify(
            agent_id=agent.id,
            message_id=reply.id,
            request=types.UpdateReasoningMessage(reasoning="a new thought"),
        )
    assert refused.value.status_code == 422
    assert "assistant_message" in str(refused.value.body)
    with pytest.raises(api_error) as refused:
        legacy_client.agents.messages.modify(
            agent_id=agent.id,
            message_id=thought.id,
            request=types.UpdateAssistantMessage(content="a new reply"),
        )
    assert refused.value.status_code == 422
    after = {m.id: m for m in legacy_client.agents.messages.list(agent_id=agent.id)}
    assert after[reply.id].content == reply.content
    assert after[thought.id].reasoning == thought.reasoning

    edited = legacy_client.agents.messages.modify(
        agent_id=agent.id,
        message_id=thought.id,
        request=types.UpdateReasoningMessage(reasoning="a new thought"),
    )
    assert edited.reasoning == "a new thought"


def test_a_tools_metadata_travels_as_metadata_underscore_in_both_sdk_lines(
    client: Any, legacy_client: Any
) -> None:
    """Both SDK lines read (and 1.x writes) a tool's metadata under Letta's name `metadata_`."""
    name = unique("tagged_tool").replace("-", "_")
    tool = client.tools.create(source_code=SOURCE.format(name=name, doc="Keep a note."))
    assert tool.metadata is None
    changed = client.tools.update(tool.id, metadata={"owner": "ops", "version": 2})
    assert changed.metadata == {"owner": "ops", "version": 2}
    assert client.tools.retrieve(tool.id).metadata == {"owner": "ops", "version": 2}
    assert legacy_client.tools.retrieve(tool.id).metadata == {"owner": "ops", "version": 2}
    # 0.1.x cannot write it; a change of its other fields keeps it.
    legacy_client.tools.modify(tool.id, description="Keep a short note.")
    assert client.tools.retrieve(tool.id).metadata == {"owner": "ops", "version": 2}


def test_legacy_sdk_add_base_tools_returns_the_built_in_tools(legacy_client: Any) -> None:
    added = legacy_client.tools.add_base_tool()
    names = {tool.name for tool in added}
    assert {"send_message", "core_memory_append", "archival_memory_search"} <= names
    assert all(tool.tool_type.startswith("letta_") for tool in added)
    assert len(names) == len(added)
    # Asked again, the same tools with the same ids: nothing is duplicated.
    assert {t.id for t in legacy_client.tools.add_base_tool()} == {t.id for t in added}
