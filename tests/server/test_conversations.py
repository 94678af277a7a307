"""Conversations (1.x `client.conversations`) through letta-client 1.12.1: an agent's
histories beside its default one, each with its own messages and runs, sharing the agent's
memory blocks; running in parallel with each other, one turn at a time each."""

import concurrent.futures
from datetime import datetime
from typing import Any

import httpx
import letta_client
import pytest

from tests.server.helpers import block_value, make_agent, script, send, wait_for

WAIT_S = 30.0


def texts(messages: list[Any], message_type: str) -> list[str]:
    return [m.content for m in messages if m.message_type == message_type]


def talk(client: Any, conversation_id: str, text: str) -> list[Any]:
    """A turn through the SDK's default: a stream of events (SSE)."""
    stream = client.conversations.messages.create(
        conversation_id, messages=[{"role": "user", "content": text}]
    )
    return list(stream)


def test_a_conversation_keeps_a_history_of_its_own_beside_the_agents_default_one(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http)
    send(http, agent["id"], "in the default history")
    conversation = client.conversations.create(agent_id=agent["id"], summary="first chat")
    assert conversation.agent_id == agent["id"]
    assert conversation.id.startswith("conv-")
    assert client.conversations.retrieve(conversation.id).summary == "first chat"

    events = talk(client, conversation.id, "hello conversation")
    assert [
        e.content for e in events if getattr(e, "message_type", None) == "assistant_message"
    ] == ["ack: hello conversation"]
    assert [e.stop_reason for e in events if e.message_type == "stop_reason"] == ["end_turn"]
    first_at = client.conversations.retrieve(conversation.id).last_message_at
    assert first_at is not None
    assert first_at >= conversation.created_at
    whole = http.post(
        f"/v1/conversations/{conversation.id}/messages",
        json={"input": "second turn", "streaming": False},
    )
    assert whole.status_code == 200, whole.text
    assert [m["content"] for m in whole.json()["messages"]] == ["ack: second turn"]
    assert client.conversations.retrieve(conversation.id).last_message_at > first_at

    listed = list(client.conversations.messages.list(conversation.id, order="asc"))
    assert texts(listed, "user_message") == ["hello conversation", "second turn"]
    assert texts(listed, "assistant_message") == ["ack: hello conversation", "ack: second turn"]
    default = client.agents.messages.list(agent["id"])
    assert texts(default, "user_message") == ["in the default history"]
    by_default = client.conversations.messages.list("default", agent_id=agent["id"])
    assert texts(by_default, "user_message") == ["in the default history"]
    list(client.conversations.messages.create("default", agent_id=agent["id"], input="direct"))
    default = client.agents.messages.list(agent["id"])
    assert texts(default, "user_message") == ["in the default history", "direct"]
    runs = list(client.runs.list(conversation_id=conversation.id))
    assert len(runs) == 2
    assert {r.conversation_id for r in runs} == {conversation.id}

    # A fork copies the history up to a message, then goes its own way.
    first_answer = next(m for m in listed if m.message_type == "assistant_message")
    fork = client.conversations.fork(conversation.id, message_id=first_answer.id)
    talk(client, fork.id, "only in the fork")
    forked = client.conversations.messages.list(fork.id, order="asc")
    assert texts(forked, "user_message") == ["hello conversation", "only in the fork"]
    original = client.conversations.messages.list(conversation.id, order="asc")
    assert texts(original, "user_message") == ["hello conversation", "second turn"]

    mine = client.conversations.list(agent_id=agent["id"])
    assert {c.id for c in mine} == {conversation.id, fork.id}
    client.conversations.update(conversation.id, archived=True, description="done")
    assert [c.id for c in client.conversations.list(agent_id=agent["id"])] == [fork.id]
    archived = client.conversations.list(agent_id=agent["id"], archive_status="archived")
    assert [(c.id, c.archived, c.description) for c in archived] == [
        (conversation.id, True, "done")
    ]

    client.conversations.delete(fork.id)
    with pytest.raises(letta_client.NotFoundError):
        client.conversations.retrieve(fork.id)
    assert texts(client.agents.messages.list(agent["id"]), "user_message") == [
        "in the default history",
        "direct",
    ]


def test_bad_conversation_requests_are_refused_and_change_nothing(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http)
    with pytest.raises(letta_client.NotFoundError):
        client.conversations.create(agent_id="agent-00000000-0000-0000-0000-000000000000")
    with pytest.raises(letta_client.NotFoundError):
        client.conversations.retrieve("conv-missing")
    with pytest.raises(letta_client.NotFoundError):
        talk(client, "conv-missing", "hi")
    refused = http.post("/v1/conversations/default/messages", json={"input": "hi"})
    assert refused.status_code == 422
    assert "agent_id" in refused.text
    conversation = client.conversations.create(agent_id=agent["id"])
    with pytest.raises(letta_client.ConflictError):  # nothing in progress to cancel
        client.conversations.cancel(conversation.id)
    with pytest.raises(letta_client.NotFoundError):
        client.conversations.fork(conversation.id, message_id="message-missing")
    # An `agent_id` beside a conversation must be its own agent: never another one run
    # silently in its place (as Letta).
    other = make_agent(http)
    missing = "agent-00000000-0000-0000-0000-000000000000"
    with pytest.raises(letta_client.NotFoundError):
        talk_as(client, conversation.id, missing)
    with pytest.raises(letta_client.UnprocessableEntityError, match=other["id"]):
        talk_as(client, conversation.id, other["id"])
    whole = http.post(
        f"/v1/conversations/{conversation.id}/messages",
        json={"input": "hi", "streaming": False, "agent_id": other["id"]},
    )
    assert whole.status_code == 422, whole.text
    with pytest.raises(letta_client.UnprocessableEntityError):
        client.conversations.messages.list(conversation.id, agent_id=other["id"])
    with pytest.raises(letta_client.UnprocessableEntityError):
        client.conversations.messages.stream(conversation.id, agent_id=other["id"])
    assert texts(list(client.agents.messages.list(other["id"])), "user_message") == []
    assert list(client.runs.list(agent_id=other["id"])) == []
    assert [c.id for c in client.conversations.list(agent_id=agent["id"])] == [conversation.id]
    # Refused for what the message itself holds, after the conversation was found.
    for bad in (
        {"input": "hi", "messages": [{"role": "user", "content": "hi"}]},
        {"input": "hi", "override_model": "no-such-provider/model"},
    ):
        answer = http.post(
            f"/v1/conversations/{conversation.id}/messages", json={**bad, "streaming": False}
        )
        assert answer.status_code == 422, answer.text
    assert client.conversations.retrieve(conversation.id).last_message_at is None
    assert list(client.runs.list(agent_id=agent["id"])) == []
    listed = list(client.conversations.messages.list(conversation.id, agent_id=agent["id"]))
    assert [m.message_type for m in listed if m.message_type != "system_message"] == []


def talk_as(client: Any, conversation_id: str, agent_id: str) -> list[Any]:
    stream = client.conversations.messages.create(
        conversation_id, agent_id=agent_id, messages=[{"role": "user", "content": "hi"}]
    )
    return list(stream)


def test_conversations_of_one_agent_run_in_parallel_and_share_its_memory_blocks(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(
        http,
        model="test/scripted@1500ms",
        memory_blocks=[{"label": "human", "value": "name: Ada"}],
    )
    one = client.conversations.create(agent_id=agent["id"])
    two = client.conversations.create(agent_id=agent["id"])
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        turns = [pool.submit(talk, client, c.id, f"hi {c.id}") for c in (one, two)]
        for turn in turns:
            turn.result(timeout=WAIT_S)

    def talked(conversation_id: str) -> list[Any]:
        """The conversation's messages, oldest first, without the system message heading it."""
        rows = client.conversations.messages.list(conversation_id, order="asc")
        return [m for m in rows if m.message_type != "system_message"]

    def span(conversation_id: str) -> tuple[datetime, datetime]:
        rows = talked(conversation_id)
        return rows[0].date, rows[-1].date  # the turn's input, then its answer

    (start_one, end_one), (start_two, end_two) = span(one.id), span(two.id)
    # Each turn began (its input is recorded under its lock) before the other ended.
    assert start_one < end_two
    assert start_two < end_one
    # Two requests to one conversation take turns: each turn's answer before the next input.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        turns = [pool.submit(talk, client, one.id, f"again {n}") for n in range(2)]
        for turn in turns:
            turn.result(timeout=WAIT_S)
    later = talked(one.id)[2:]
    assert [m.message_type for m in later] == ["user_message", "assistant_message"] * 2

    edit = script(
        {"tool": "core_memory_append", "args": {"label": "human", "content": "likes tea"}},
        {"tool": "send_message", "args": {"message": "noted"}},
    )
    talk(client, one.id, edit)
    assert "likes tea" in block_value(http, agent["id"], "human")
    # The other conversation's next step compiles the edited block into its prompt, and
    # its memory tools work on the edited value.
    assert "likes tea" in client.conversations.recompile(two.id)
    replace = script(
        {
            "tool": "core_memory_replace",
            "args": {"label": "human", "old_content": "likes tea", "new_content": "likes coffee"},
        },
        {"tool": "send_message", "args": {"message": "changed"}},
    )
    talk(client, two.id, replace)
    assert "likes coffee" in block_value(http, agent["id"], "human")


def test_a_conversations_turn_is_cancelled_and_its_history_compacted(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo")
    conversation = client.conversations.create(agent_id=agent["id"])
    for n in range(4):
        talk(client, conversation.id, f"message {n}")
    compacted = client.conversations.messages.compact(
        conversation.id, compaction_settings={"mode": "all", "model": "test/summarizer"}
    )
    assert compacted.summary
    assert compacted.num_messages_after < compacted.num_messages_before
    # The default history was not summarised.
    default = client.conversations.messages.compact(
        "default", agent_id=agent["id"], compaction_settings={"mode": "all"}
    )
    assert default.num_messages_before == default.num_messages_after == 1

    client.conversations.update(conversation.id, model="test/echo@60000ms")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        turn = pool.submit(talk, client, conversation.id, "a slow one")
        running = wait_for(
            lambda: list(client.runs.list(conversation_id=conversation.id, active=True)),
            "the conversation's run to start",
        )
        cancelled = client.conversations.cancel(conversation.id)
        assert cancelled == {running[0].id: "cancelled"}
        events = turn.result(timeout=WAIT_S)
    assert [e.stop_reason for e in events if e.message_type == "stop_reason"] == ["cancelled"]
    assert client.runs.retrieve(running[0].id).status == "cancelled"


def test_a_background_turn_of_a_conversation_is_resumed_after_the_client_left(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo@3000ms")
    conversation = client.conversations.create(agent_id=agent["id"])
    with pytest.raises(letta_client.UnprocessableEntityError):  # nothing to resume yet
        list(client.conversations.messages.stream(conversation.id))
    left = client.conversations.messages.create(conversation.id, input="carry on", background=True)
    left.close()  # the client goes away; the run goes on
    events = list(client.conversations.messages.stream(conversation.id))
    assert [e.content for e in events if e.message_type == "assistant_message"] == [
        "echo: carry on"
    ]
    assert [e.stop_reason for e in events if e.message_type == "stop_reason"] == ["end_turn"]
    assert next(e.seq_id for e in events if e.message_type == "assistant_message") is not None


def test_a_conversations_history_narrowed_to_message_types(client: Any, http: httpx.Client) -> None:
    agent = make_agent(http)
    conversation = client.conversations.create(agent_id=agent["id"])
    talk(client, conversation.id, "first")
    talk(client, conversation.id, "second")
    answers = client.conversations.messages.list(
        conversation.id, include_return_message_types=["assistant_message"], order="asc"
    )
    assert [(m.message_type, m.content) for m in answers] == [
        ("assistant_message", "ack: first"),
        ("assistant_message", "ack: second"),
    ]
    asked = client.conversations.messages.list(
        conversation.id, include_return_message_types=["user_message"], limit=1, order="desc"
    )
    assert [m.content for m in asked.items] == ["second"]
