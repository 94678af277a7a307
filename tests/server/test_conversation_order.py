"""`conversations.list(order_by=...)` through letta-client 1.12.1: by creation, by the last
message sent to each, or by its latest finished run; a conversation that has none sorts as
the oldest (last when newest comes first), as on Letta's server; cursors page in that order."""

from typing import Any

import httpx

from tests.server.helpers import make_agent


def talk(client: Any, conversation_id: str, text: str) -> None:
    list(
        client.conversations.messages.create(
            conversation_id, messages=[{"role": "user", "content": text}]
        )
    )


def listed(client: Any, agent_id: str, **order: Any) -> list[str]:
    return [c.id for c in client.conversations.list(agent_id=agent_id, **order)]


def paged(client: Any, agent_id: str, **order: Any) -> list[str]:
    """The same list read one conversation at a time, each page after the last one's id."""
    ids: list[str] = []
    while page := client.conversations.list(
        agent_id=agent_id, limit=1, **({"after": ids[-1]} if ids else {}), **order
    ):
        ids += [c.id for c in page]
        assert len(ids) <= 4, ids
    return ids


def test_conversations_are_listed_by_their_last_message_or_run(
    client: Any, http: httpx.Client
) -> None:
    agent = make_agent(http)
    first, second, third, fourth = (
        client.conversations.create(agent_id=agent["id"]).id for _ in range(4)
    )
    talk(client, second, "older")
    talk(client, first, "newer")
    silent = sorted([third, fourth])  # no message yet: ties broken by id

    assert listed(client, agent["id"]) == [fourth, third, second, first]  # by creation
    assert listed(client, agent["id"], order="asc") == [first, second, third, fourth]
    for order_by in ("last_message_at", "last_run_completion"):
        newest_first = [first, second, *reversed(silent)]
        assert listed(client, agent["id"], order_by=order_by) == newest_first, order_by
        assert paged(client, agent["id"], order_by=order_by) == newest_first, order_by
        oldest_first = [*silent, second, first]
        assert listed(client, agent["id"], order_by=order_by, order="asc") == oldest_first
        assert paged(client, agent["id"], order_by=order_by, order="asc") == oldest_first

    # A new message moves a conversation to the front of its order.
    talk(client, fourth, "newest")
    assert listed(client, agent["id"], order_by="last_message_at")[:3] == [fourth, first, second]
    assert listed(client, agent["id"], order_by="last_run_completion")[0] == fourth


def test_an_unknown_order_by_or_cursor_is_refused(http: httpx.Client) -> None:
    response = http.get("/v1/conversations/", params={"order_by": "name"})
    assert response.status_code == 422, response.text
    assert "order_by" in response.text
    agent = make_agent(http)
    for order_by in ("created_at", "last_message_at", "last_run_completion"):
        for cursor in ("after", "before"):
            response = http.get(
                "/v1/conversations/",
                params={"agent_id": agent["id"], "order_by": order_by, cursor: "conv-missing"},
            )
            assert response.status_code == 404, (order_by, cursor, response.text)
            assert "conv-missing" in response.text
