"""The filters of letta-client 1.12.1's two message lists: `client.agents.messages.list`
(`conversation_id`, `group_id`) and the top-level `client.messages.list`
(`conversation_id`), each narrowing what is listed as Letta's server did."""

from typing import Any

import httpx
import letta_client
import pytest

from tests.server.helpers import make_agent, send


def texts(messages: Any, message_type: str) -> list[str]:
    return [m.content for m in messages if m.message_type == message_type]


def talk(client: Any, conversation_id: str, text: str) -> None:
    list(client.conversations.messages.create(conversation_id, input=text))


def test_an_agents_history_list_is_narrowed_to_one_conversation(
    client: Any, http: httpx.Client
) -> None:
    agent, stranger = make_agent(http), make_agent(http)
    send(http, agent["id"], "in the default history")
    conversation = client.conversations.create(agent_id=agent["id"])
    talk(client, conversation.id, "in the conversation")

    listed = client.agents.messages.list(agent["id"], conversation_id=conversation.id)
    assert texts(listed, "user_message") == ["in the conversation"]
    assert texts(listed, "assistant_message") == ["ack: in the conversation"]
    # The same messages, in the same order, as the conversation's own list gives.
    own = client.conversations.messages.list(conversation.id, order="asc")
    assert [m.id for m in listed] == [m.id for m in own]
    # `default` is the agent's own history, as without the filter.
    default = client.agents.messages.list(agent["id"], conversation_id="default")
    assert texts(default, "user_message") == ["in the default history"]
    assert [m.id for m in default] == [m.id for m in client.agents.messages.list(agent["id"])]
    # Paging and types narrow the conversation's history like the agent's.
    newest = client.agents.messages.list(
        agent["id"], conversation_id=conversation.id, order="desc", limit=1
    )
    assert texts(newest, "assistant_message") == ["ack: in the conversation"]
    typed = client.agents.messages.list(
        agent["id"], conversation_id=conversation.id, include_return_message_types=["user_message"]
    )
    assert [m.message_type for m in typed] == ["user_message"]

    # Another agent's conversation: Letta filters by both, so nothing is listed.
    assert list(client.agents.messages.list(stranger["id"], conversation_id=conversation.id)) == []
    with pytest.raises(letta_client.NotFoundError):
        client.agents.messages.list(agent["id"], conversation_id="conv-no-such-conversation")


def test_the_list_of_every_agents_messages_is_narrowed_to_one_conversation(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http)
    conversation = client.conversations.create(agent_id=agent["id"])
    talk(client, conversation.id, "only here")
    send(http, make_agent(http)["id"], "somewhere else")

    listed = client.messages.list(conversation_id=conversation.id)
    assert texts(listed, "user_message") == ["only here"]
    assert texts(listed, "assistant_message") == ["ack: only here"]
    # The conversation's stored messages (its system message heads only its own list).
    own = client.conversations.messages.list(conversation.id)
    assert [m.id for m in listed] == [m.id for m in own if m.message_type != "system_message"]
    oldest = client.messages.list(conversation_id=conversation.id, order="asc", limit=1)
    assert texts(oldest, "user_message") == ["only here"]
    # `default`: the messages of every agent's default history, none of a conversation's.
    defaults = client.messages.list(conversation_id="default", limit=2)
    assert texts(defaults, "user_message") + texts(defaults, "assistant_message") == [
        "somewhere else",
        "ack: somewhere else",
    ] or texts(defaults, "assistant_message") + texts(defaults, "user_message") == [
        "ack: somewhere else",
        "somewhere else",
    ]
    with pytest.raises(letta_client.NotFoundError):
        client.messages.list(conversation_id="conv-no-such-conversation")


def test_an_agents_history_list_is_narrowed_to_one_group(client: Any, http: httpx.Client) -> None:
    one, two = make_agent(http, model="test/echo"), make_agent(http, model="test/echo")
    send(http, one["id"], "before the group")
    made = http.post(
        "/v1/groups",
        json={"agent_ids": [one["id"], two["id"]], "manager_config": {"max_turns": 2}},
    )
    assert made.status_code == 200, made.text
    group_id = made.json()["id"]
    said = http.post(
        f"/v1/groups/{group_id}/messages",
        json={"messages": [{"role": "user", "content": "to the group"}]},
    )
    assert said.status_code == 200, said.text

    mine = client.agents.messages.list(one["id"], group_id=group_id)
    assert texts(mine, "user_message") == ["to the group"]
    assert texts(mine, "assistant_message") == ["echo: to the group"]
    everything = client.agents.messages.list(one["id"])
    assert texts(everything, "user_message")[:2] == ["before the group", "to the group"]
    with pytest.raises(letta_client.NotFoundError):
        client.agents.messages.list(one["id"], group_id="group-no-such-group")
