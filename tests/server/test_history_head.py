"""The history starts with the agent's system message, as Letta's does (both SDK lines read
it), pages like any message, and never reaches the model; `initial_message_sequence` on
create is the history an agent starts with."""

from typing import Any

import httpx

from tests.server.helpers import make_agent, send, unique
from tests.server.test_paging import check_every_way


def test_the_history_starts_with_the_system_message(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(
        name=unique("a"),
        model="test/echo",
        system="You are a careful archivist.",
        memory_blocks=[{"label": "human", "value": "Ada likes tea"}],
    )
    fresh = list(client.agents.messages.list(agent.id))
    assert [m.message_type for m in fresh] == ["system_message"]
    head = fresh[0]
    assert head.content.startswith("You are a careful archivist.")
    assert "Ada likes tea" in head.content  # the prompt with its memory, as the model sees it
    client.agents.messages.create(agent.id, input="hello")
    client.agents.messages.create(agent.id, input="again")
    history = list(client.agents.messages.list(agent.id))
    assert history[0].id == head.id
    assert [m.message_type for m in history[1:3]] == ["user_message", "assistant_message"]
    old = legacy_client.agents.messages.list(agent_id=agent.id)
    assert old[0].message_type == "system_message"
    assert old[0].id == head.id
    # the model gets the prompt once, not the head as a message of its history too
    context = http.get(f"/v1/agents/{agent.id}/context").json()
    shown = [str(m.get("content")) for m in context["messages"]]
    assert sum("careful archivist" in text for text in shown) == 1
    assert context["messages"][0]["role"] == "system"

    newest_first = list(client.agents.messages.list(agent.id, order="desc"))
    assert newest_first[-1].id == head.id
    assert client.agents.messages.list(agent.id, order="desc", after=head.id).items == []
    after_head = client.agents.messages.list(agent.id, order="asc", after=head.id, limit=2)
    assert [m.id for m in after_head.items] == [m.id for m in history[1:3]]
    assert http.get(f"/v1/agents/{agent.id}/messages", params={"before": head.id}).json() == []
    send(http, agent.id, "one more")
    check_every_way(http, f"/v1/agents/{agent.id}/messages", {}, "newest")  # head included


def test_an_initial_message_sequence_is_the_starting_history(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    agent = legacy_client.agents.create(
        name=unique("a"),
        model="test/echo",
        initial_message_sequence=[
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Nice to meet you, Ada."},
        ],
    )
    history = list(client.agents.messages.list(agent.id))
    assert [(m.message_type, getattr(m, "content", None)) for m in history[1:]] == [
        ("user_message", "My name is Ada."),
        ("assistant_message", "Nice to meet you, Ada."),
    ]
    answer = send(http, agent.id, "What is my name?")
    assert answer["stop_reason"]["stop_reason"] == "end_turn"
    empty = make_agent(http, initial_message_sequence=[])
    assert [m["message_type"] for m in http.get(f"/v1/agents/{empty['id']}/messages").json()] == [
        "system_message"
    ]


def test_a_history_narrowed_to_message_types_pages_within_them(
    client: Any, http: httpx.Client
) -> None:
    """`include_return_message_types` (1.x `messages.list`) keeps only those types, the head
    included only when `system_message` is asked for, and `limit` counts what is kept."""
    agent = make_agent(http)
    for text in ("one", "two", "three"):
        send(http, agent["id"], text)
    only_users = ["user_message"]
    users = list(client.agents.messages.list(agent["id"], include_return_message_types=only_users))
    assert [(m.message_type, m.content) for m in users] == [
        ("user_message", "one"),
        ("user_message", "two"),
        ("user_message", "three"),
    ]
    kinds = ["system_message", "assistant_message"]
    headed = list(client.agents.messages.list(agent["id"], include_return_message_types=kinds))
    assert [m.message_type for m in headed] == ["system_message"] + ["assistant_message"] * 3

    first = client.agents.messages.list(
        agent["id"], include_return_message_types=only_users, order="asc", limit=2
    )
    assert [m.content for m in first.items] == ["one", "two"]
    rest = client.agents.messages.list(
        agent["id"],
        include_return_message_types=only_users,
        order="asc",
        limit=2,
        after=first.items[-1].id,
    )
    assert [m.content for m in rest.items] == ["three"]
    newest = client.agents.messages.list(
        agent["id"], include_return_message_types=only_users, order="desc", limit=2
    )
    assert [m.content for m in newest.items] == ["three", "two"]
    everything = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert len(everything) == 7  # the head, three questions and three answers


def test_the_system_message_the_history_shows_first_is_retrieved_by_its_id(
    client: Any, http: httpx.Client
) -> None:
    agent = client.agents.create(
        name=unique("a"),
        model="test/echo",
        system="You keep the ledger.",
        memory_blocks=[{"label": "human", "value": "Ada likes tea"}],
    )
    send(http, agent.id, "hello")
    head = next(iter(client.agents.messages.list(agent.id)))
    assert head.message_type == "system_message"
    (retrieved,) = client.messages.retrieve(head.id)
    assert (retrieved.id, retrieved.message_type) == (head.id, "system_message")
    assert retrieved.content == head.content
    assert "Ada likes tea" in retrieved.content
    unknown = http.get("/v1/messages/message-00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
