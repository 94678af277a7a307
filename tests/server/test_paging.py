"""Every list route pages the same way (troupe.store.paging): `after` and `before` are ids
(tags: the tag) of the list in the order asked for, `before` alone gives the page nearest
to it, both give the window between them; checked over plain HTTP and both SDK lines."""

from itertools import product
from typing import Any

import httpx
import pytest
from letta_client import NotFoundError

from tests.server.helpers import make_agent, script, send, unique
from tests.support.sdks import legacy_sdk

SEARCH = {"tool": "conversation_search", "args": {"query": "x"}}
# One turn of six steps: the user's message, five (call, return) pairs and the reply.
LONG_TURN = script(*[SEARCH] * 5, {"tool": "send_message", "args": {"message": "ok"}})
ALL = 10_000


def expected(
    oldest_first: list[str],
    *,
    default: str,
    limit: int,
    after: str | None = None,
    before: str | None = None,
    order: str | None = None,
) -> list[str]:
    """What a page holds, worked out on the whole list: the model the server must follow.
    `default`: the list's order when none is asked for ("newest": the newest `limit`,
    oldest first, unless paging on from `after`)."""
    from_end = default == "newest" and order is None and after is None
    order = order or ("asc" if default == "newest" else default)
    items = oldest_first if order == "asc" else oldest_first[::-1]
    if after is not None:
        items = items[items.index(after) + 1 :]
    if before is not None:
        items = items[: items.index(before)]
    if from_end or (before is not None and after is None):
        return items[-limit:]
    return items[:limit]


def page_ids(page: Any) -> list[str]:
    """The ids on one page an SDK returned (1.x: a page object, 0.1.x: a list)."""
    return [item.id for item in getattr(page, "items", page)]


def check_every_way(
    http: httpx.Client, url: str, params: dict[str, Any], default: str, key: str = "id"
) -> None:
    """Compare every combination of `order`, `after`, `before` (limit 2) with `expected`."""

    def get(**paging: Any) -> list[str]:
        response = http.get(url, params={**params, **paging})
        assert response.status_code == 200, response.text
        return [item if key == "" else item[key] for item in response.json()]

    everything = get(order="asc", limit=ALL)
    assert len(everything) >= 6, everything
    for order, with_after, with_before in product((None, "asc", "desc"), *[(False, True)] * 2):
        ascending = (order or default) in ("asc", "newest")
        shown = everything if ascending else everything[::-1]
        after, before = shown[1] if with_after else None, shown[4] if with_before else None
        paging = {"order": order, "after": after, "before": before, "limit": 2}
        asked = {k: v for k, v in paging.items() if v is not None}
        want = expected(
            everything, default=default, limit=2, after=after, before=before, order=order
        )
        assert get(**asked) == want, asked


def test_the_top_level_lists_page_every_way(http: httpx.Client) -> None:
    tag, label = unique("paging"), unique("paging")
    agents = [make_agent(http, tags=[tag, f"{tag}-{i}"]) for i in range(6)]
    blocks = [
        http.post("/v1/blocks/", json={"label": label, "value": "v"}).json() for _ in range(6)
    ]
    check_every_way(http, "/v1/agents/", {"tags": tag}, "desc")
    check_every_way(http, "/v1/blocks/", {"label": label}, "desc")
    check_every_way(http, "/v1/tools/", {}, "desc")
    for agent in agents:
        attach = f"/v1/agents/{agent['id']}/core-memory/blocks/attach/{blocks[0]['id']}"
        assert http.patch(attach).status_code == 200
    check_every_way(http, f"/v1/blocks/{blocks[0]['id']}/agents", {}, "desc")
    check_every_way(http, "/v1/tags/", {"query_text": tag}, "asc", key="")


def test_runs_and_their_messages_and_steps_page_every_way(http: httpx.Client) -> None:
    agent = make_agent(http)
    run_id = send(http, agent["id"], LONG_TURN)["run_id"]
    for _ in range(5):
        send(http, agent["id"], "again")
    check_every_way(http, "/v1/runs/", {"agent_ids": agent["id"]}, "desc")
    check_every_way(http, f"/v1/runs/{run_id}/messages", {}, "asc")
    check_every_way(http, f"/v1/runs/{run_id}/steps", {}, "asc")
    check_every_way(http, f"/v1/agents/{agent['id']}/messages", {}, "newest")


def test_what_is_attached_to_an_agent_pages_every_way(http: httpx.Client) -> None:
    blocks = [
        http.post("/v1/blocks/", json={"label": unique("own"), "value": "v"}).json()["id"]
        for _ in range(6)
    ]
    agent = make_agent(http, block_ids=blocks, include_base_tools=True)
    check_every_way(http, f"/v1/agents/{agent['id']}/core-memory/blocks", {}, "asc")
    check_every_way(http, f"/v1/agents/{agent['id']}/tools", {}, "asc")


def test_both_sdks_page_back_from_a_message_to_the_nearest_page(
    http: httpx.Client, client: Any, legacy_client: Any
) -> None:
    agent = make_agent(http)
    reply = send(http, agent["id"], LONG_TURN)
    run_id, made = reply["run_id"], [m["id"] for m in reply["messages"]]

    for order, before, nearest in (("asc", made[5], made[3:5]), ("desc", made[2], made[4:2:-1])):
        asked = {"before": before, "limit": 2, "order": order}
        assert page_ids(client.runs.messages.list(run_id=run_id, **asked)) == nearest
        assert page_ids(client.agents.messages.list(agent_id=agent["id"], **asked)) == nearest
        legacy = legacy_client.runs.list_run_messages(run_id=run_id, **asked)
        assert page_ids(legacy) == nearest
    newest_before = legacy_client.agents.messages.list(
        agent_id=agent["id"], before=made[5], limit=2
    )
    assert page_ids(newest_before) == made[3:5]


def test_current_sdk_pages_what_is_attached_and_tags_in_either_order(client: Any) -> None:
    tag = unique("attached")
    blocks = [client.blocks.create(label=f"{tag}-{i}", value="v").id for i in range(4)]
    agent = client.agents.create(name=tag, block_ids=blocks, tags=[f"{tag}-{i}" for i in range(4)])
    tools = [t.id for t in client.agents.tools.list(agent.id)]
    assert page_ids(client.agents.blocks.list(agent.id, order="desc", limit=2)) == [
        blocks[3],
        blocks[2],
    ]
    assert (
        page_ids(client.agents.tools.list(agent.id, order="desc", after=tools[-1]))
        == (tools[-2::-1])
    )
    tags = client.tags.list(query_text=tag, before=f"{tag}-3", limit=2)
    assert list(tags) == [f"{tag}-1", f"{tag}-2"]


def test_current_sdk_auto_pages_an_agents_whole_history_in_an_order_asked_for(
    http: httpx.Client, client: Any
) -> None:
    """A plain `for m in client.agents.messages.list(...)` asks again with `after=<last id>`.
    With `order` given it walks the whole history; without, the first page is the newest
    `limit` messages oldest first, so it ends after that page: Letta's own server answered
    the same (its list reversed the newest page back to oldest first), and docs/api.md says
    to pass `order` to walk everything."""
    agent = make_agent(http)
    send(http, agent["id"], LONG_TURN)
    oldest_first = [
        m["id"]
        for m in http.get(
            f"/v1/agents/{agent['id']}/messages", params={"order": "asc", "limit": ALL}
        ).json()
    ]
    assert len(oldest_first) > 6
    walk = client.agents.messages.list
    assert [m.id for m in walk(agent_id=agent["id"], order="asc", limit=2)] == oldest_first
    assert [m.id for m in walk(agent_id=agent["id"], order="desc", limit=2)] == oldest_first[::-1]
    assert [m.id for m in walk(agent_id=agent["id"], limit=2)] == oldest_first[-2:]


def test_a_cursor_that_names_nothing_is_a_404_not_an_empty_page(
    http: httpx.Client, client: Any, legacy_client: Any
) -> None:
    """Letta's lists look their cursor up and answer 404 ("No Block found with id ...") when
    it is not there. An empty page would look like the end of the list: a script paging on
    from an item deleted meanwhile would stop early and never see what follows it."""
    agent = make_agent(http)
    send(http, agent["id"], "hello")
    label = unique("cursor")
    blocks = [client.blocks.create(label=label, value="v").id for _ in range(3)]
    client.blocks.delete(blocks[1])  # a real id, deleted: it must not hide blocks[2]
    for cursor in ("block-00000000-0000-4000-8000-000000000000", blocks[1]):
        for side in ("after", "before"):
            response = http.get("/v1/blocks/", params={"label": label, side: cursor})
            assert response.status_code == 404, response.text
            assert cursor in response.json()["detail"]
    with pytest.raises(NotFoundError):
        client.blocks.list(label=label, after=blocks[1])
    nowhere = "message-00000000-0000-4000-8000-000000000000"
    with pytest.raises(legacy_sdk().core.api_error.ApiError) as refused:
        legacy_client.agents.messages.list(agent_id=agent["id"], after=nowhere)
    assert refused.value.status_code == 404
    with pytest.raises(NotFoundError):
        client.agents.messages.list(agent["id"], after=nowhere)
    for url in ("/v1/agents/", "/v1/tools/", "/v1/runs/", f"/v1/agents/{agent['id']}/tools"):
        assert http.get(url, params={"after": "x-nope"}).status_code == 404, url
    # A cursor that is an item of the list still pages on, and the last item ends it.
    oldest_first = client.blocks.list(label=label, after=blocks[0], order="asc")
    assert [b.id for b in oldest_first] == [blocks[2]]
    assert list(client.blocks.list(label=label, after=blocks[2], order="asc")) == []
    # The environment's providers are no stored rows, but their ids page on all the same.
    past_local = http.get("/v1/providers/", params={"after": "provider-env-local"})
    assert past_local.status_code == 200, past_local.text
    assert "provider-env-local" not in [p["id"] for p in past_local.json()]
    assert http.get("/v1/providers/", params={"after": "provider-env-nope"}).status_code == 404
    # Tags are their own cursors: any text is a place in the alphabetical list.
    assert http.get("/v1/tags/", params={"after": "zzz-no-such-tag"}).status_code == 200
