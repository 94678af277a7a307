"""The messages in an agent's context (`AgentState.message_ids`, a conversation's
`in_context_message_ids`) and trimming them with `update(message_ids=...)`, through both
SDK lines. The agents answer with `users_seen`, which replies with the user-role messages its
request held: what the model was sent."""

import json
from typing import Any

import httpx

from tests.server.helpers import unique

SEEN = "test/function:tests.support.models:users_seen"


def turn(client: Any, agent_id: str, text: str) -> list[str]:
    """A turn; the user messages the model was sent at its step."""
    answer = client.agents.messages.create(agent_id, messages=[{"role": "user", "content": text}])
    replies = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert len(replies) == 1, answer.messages
    seen: list[str] = json.loads(replies[0])
    return seen


def listed(client: Any, agent_id: str) -> list[Any]:
    return list(client.agents.messages.list(agent_id, order="asc", limit=1000))


def recall_agent(client: Any, **fields: Any) -> Any:
    return client.agents.create(name=unique("ctx"), model=SEEN, **fields)


def test_message_ids_are_the_history_in_context_headed_by_the_system_message(
    client: Any, legacy_client: Any
) -> None:
    agent = recall_agent(client)
    head = listed(client, agent.id)
    assert [m.message_type for m in head] == ["system_message"]
    assert agent.message_ids == [head[0].id]
    for text in ("one", "two", "three"):
        turn(client, agent.id, text)
    everything = [m.id for m in listed(client, agent.id)]
    assert len(everything) > 4
    assert client.agents.retrieve(agent.id).message_ids == everything
    assert legacy_client.agents.retrieve(agent_id=agent.id).message_ids == everything
    by_name = client.agents.list(name=agent.name)
    assert [a.message_ids for a in by_name] == [everything]
    legacy_by_name = legacy_client.agents.list(name=agent.name)
    assert [a.message_ids for a in legacy_by_name] == [everything]
    # They are the messages API's ids: a cursor pages on from one.
    rest = client.agents.messages.list(agent.id, after=everything[1], order="asc", limit=1000)
    assert [m.id for m in rest] == everything[2:]
    # An update of something else shows them too.
    assert client.agents.update(agent.id, description="d").message_ids == everything


def test_trimming_keeps_the_newest_messages_in_context_and_all_of_them_stored(
    client: Any,
) -> None:
    agent = recall_agent(client)
    assert turn(client, agent.id, "first") == ["first"]
    assert turn(client, agent.id, "second") == ["first", "second"]
    assert turn(client, agent.id, "third") == ["first", "second", "third"]
    before = client.agents.retrieve(agent.id).message_ids
    messages = listed(client, agent.id)
    third = next(m for m in messages if m.message_type == "user_message" and m.content == "third")
    kept = [before[0], *before[before.index(third.id) :]]

    state = client.agents.update(agent.id, message_ids=kept)
    assert state.message_ids == kept
    assert client.agents.retrieve(agent.id).message_ids == kept
    # The next step is sent only what was kept, then the new message.
    assert turn(client, agent.id, "fourth") == ["third", "fourth"]
    after = client.agents.retrieve(agent.id).message_ids
    assert after[: len(kept)] == kept
    assert len(after) > len(kept)
    # Nothing was deleted: the trimmed messages are still listed.
    users = [m.content for m in listed(client, agent.id) if m.message_type == "user_message"]
    assert users == ["first", "second", "third", "fourth"]

    # The same list again changes nothing.
    assert client.agents.update(agent.id, message_ids=after).message_ids == after
    assert turn(client, agent.id, "fifth") == ["third", "fourth", "fifth"]


def test_the_legacy_sdk_trims_to_the_system_message_alone(legacy_client: Any) -> None:
    agent = legacy_client.agents.create(
        name=unique("ctx"), model=SEEN, embedding="openai/text-embedding-3-small"
    )
    for text in ("old one", "old two"):
        legacy_client.agents.messages.create(
            agent_id=agent.id, messages=[{"role": "user", "content": text}]
        )
    current = legacy_client.agents.retrieve(agent_id=agent.id).message_ids
    assert len(current) > 3
    state = legacy_client.agents.modify(agent_id=agent.id, message_ids=current[:1])
    assert state.message_ids == current[:1]
    answer = legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": "new"}]
    )
    said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert [json.loads(text) for text in said] == [["new"]]
    stored = legacy_client.agents.messages.list(agent_id=agent.id, limit=1000)
    assert {"old one", "old two", "new"} <= {
        m.content for m in stored if m.message_type == "user_message"
    }


def test_lists_troupe_cannot_honour_are_refused_and_change_nothing(
    client: Any, http: httpx.Client
) -> None:
    agent = recall_agent(client)
    other = recall_agent(client)
    for text in ("a", "b", "c"):
        turn(client, agent.id, text)
    turn(client, other.id, "elsewhere")
    current = client.agents.retrieve(agent.id).message_ids
    stranger = client.agents.retrieve(other.id).message_ids[-1]
    by_id = {m.id: m for m in listed(client, agent.id)}
    not_opening = next(
        i for i in current[1:] if by_id[i].message_type not in ("user_message", "system_message")
    )
    bad_lists = {
        "no system message": current[1:],
        "reordered": [current[0], *reversed(current[1:])],
        "a gap": [current[0], *current[1:-2], current[-1]],
        "another agent's message": [*current, stranger],
        "an unknown id": [current[0], "message-00000000-0000-0000-0000-000000000000"],
        "starting inside an exchange": [current[0], *current[current.index(not_opening) :]],
        "a duplicate": [current[0], current[-1], current[-1]],
        "empty": [],
    }
    for why, bad in bad_lists.items():
        response = http.patch(
            f"/v1/agents/{agent.id}", json={"message_ids": bad, "description": "changed"}
        )
        assert response.status_code == 422, (why, response.text)
        assert "message_ids" in response.json()["detail"], why
        assert "Nothing was changed" in response.json()["detail"], why
        state = client.agents.retrieve(agent.id)
        assert state.message_ids == current, why
        assert state.description is None, why
    assert turn(client, agent.id, "d") == ["a", "b", "c", "d"]


def test_message_ids_leave_out_what_a_summary_covers_and_a_trim_keeps_the_summary(
    client: Any,
) -> None:
    agent = recall_agent(client, compaction_settings={"model": "test/summarizer"})
    for text in ("Alpha fact.", "Beta fact."):
        turn(client, agent.id, text)
    client.agents.messages.compact(agent.id, compaction_settings={"mode": "all"})
    head = client.agents.retrieve(agent.id).message_ids
    assert len(head) == 1  # the system message alone: the rest is summarised
    seen = turn(client, agent.id, "Gamma fact.")
    assert seen[-1] == "Gamma fact."
    assert "Alpha fact" in seen[0]  # the summary's note
    turn(client, agent.id, "Delta fact.")
    current = client.agents.retrieve(agent.id).message_ids
    users = {m.id: m.content for m in listed(client, agent.id) if m.message_type == "user_message"}
    assert [users[i] for i in current if i in users] == ["Gamma fact.", "Delta fact."]
    delta = next(i for i in current if users.get(i) == "Delta fact.")
    client.agents.update(agent.id, message_ids=[current[0], *current[current.index(delta) :]])
    seen = turn(client, agent.id, "Epsilon fact.")
    # The summary still heads the context; the cut messages are out of it.
    assert "Alpha fact" in seen[0]
    assert seen[1:] == ["Delta fact.", "Epsilon fact."]


def test_a_conversation_shows_its_own_messages_in_context(client: Any) -> None:
    agent = recall_agent(client)
    turn(client, agent.id, "in the default history")
    conversation = client.conversations.create(agent_id=agent.id)
    assert conversation.in_context_message_ids == [agent.message_ids[0]]
    for text in ("hello", "again"):
        list(
            client.conversations.messages.create(
                conversation.id, messages=[{"role": "user", "content": text}]
            )
        )
    shown = [
        m.id for m in client.conversations.messages.list(conversation.id, order="asc", limit=100)
    ]
    assert len(shown) > 3
    assert client.conversations.retrieve(conversation.id).in_context_message_ids == shown
    mine = client.conversations.list(agent_id=agent.id)
    assert [c.in_context_message_ids for c in mine] == [shown]
    updated = client.conversations.update(conversation.id, description="x")
    assert updated.in_context_message_ids == shown
    # The agent's own list is its default history's, untouched by the conversation.
    default = [m.id for m in listed(client, agent.id)]
    assert client.agents.retrieve(agent.id).message_ids == default
