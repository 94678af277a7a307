"""Groups (Letta's multi-agent groups) through letta-client 0.1.x and plain HTTP: create,
read, change, delete, shared blocks, and each manager type's turn."""

from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, unique


def _group(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/v1/groups", json={"description": "team", **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_groups_are_created_listed_changed_and_deleted_through_the_legacy_sdk(
    http: httpx.Client, legacy_client: Any
) -> None:
    one, two, boss = (make_agent(http) for _ in range(3))
    created = legacy_client.groups.create_group(
        agent_ids=[one["id"], two["id"]],
        description="a round robin",
        manager_config={"manager_type": "round_robin", "max_turns": 3},
    )
    assert created.id.startswith("group-")
    assert (created.manager_type, created.agent_ids, created.max_turns) == (
        "round_robin",
        [one["id"], two["id"]],
        3,
    )
    supervised = legacy_client.groups.upsert_group(
        agent_ids=[one["id"]],
        description="supervised",
        manager_config={"manager_type": "supervisor", "manager_agent_id": boss["id"]},
    )
    assert supervised.manager_agent_id == boss["id"]
    listed = [g.id for g in legacy_client.groups.list_groups(limit=1000)]
    assert created.id in listed
    assert supervised.id in listed
    only_supervisors = legacy_client.groups.list_groups(manager_type="supervisor", limit=1000)
    assert supervised.id in [g.id for g in only_supervisors]
    assert created.id not in [g.id for g in only_supervisors]
    # The supervisor's tool reaches its group; the agent lists the groups it is in.
    tools = [t["name"] for t in http.get(f"/v1/agents/{boss['id']}").json()["tools"]]
    assert "send_message_to_all_agents_in_group" in tools
    assert http.get(f"/v1/agents/{boss['id']}").json()["multi_agent_group"]["id"] == supervised.id
    in_groups = http.get(f"/v1/agents/{one['id']}/groups").json()
    assert {g["id"] for g in in_groups} == {created.id, supervised.id}

    changed = http.patch(
        f"/v1/groups/{created.id}",
        json={"description": "renamed", "agent_ids": [two["id"], one["id"]]},
    ).json()
    assert (changed["description"], changed["agent_ids"]) == ("renamed", [two["id"], one["id"]])
    assert changed["max_turns"] == 3  # untouched settings stay
    assert http.get(f"/v1/groups/{created.id}").json() == changed

    legacy_client.groups.delete_group(group_id=created.id)
    assert http.get(f"/v1/groups/{created.id}").status_code == 404
    assert http.get(f"/v1/agents/{one['id']}").status_code == 200  # members stay


def test_a_groups_shared_block_is_attached_to_every_member(http: httpx.Client) -> None:
    one, two = make_agent(http), make_agent(http)
    block = http.post("/v1/blocks", json={"label": unique("team"), "value": "plan"}).json()
    group = _group(http, agent_ids=[one["id"], two["id"]])
    assert http.patch(f"/v1/groups/{group['id']}/blocks/attach/{block['id']}").status_code == 200
    for agent in (one, two):
        blocks = http.get(f"/v1/agents/{agent['id']}").json()["blocks"]
        assert block["id"] in [b["id"] for b in blocks]
    assert http.get(f"/v1/groups/{group['id']}").json()["shared_block_ids"] == [block["id"]]
    assert http.patch(f"/v1/groups/{group['id']}/blocks/detach/{block['id']}").status_code == 200
    blocks = http.get(f"/v1/agents/{one['id']}").json()["blocks"]
    assert block["id"] not in [b["id"] for b in blocks]


@pytest.mark.parametrize(
    "body",
    [
        {"agent_ids": []},
        {"agent_ids": ["agent-missing"]},
        {"agent_ids": "not a list"},
        {"agent_ids": ["AGENT"], "manager_config": {"manager_type": "supervisor"}},
        {"agent_ids": ["AGENT"], "manager_config": {"manager_type": "swarm"}},
        {"agent_ids": ["AGENT"], "manager_config": {"manager_type": "round_robin", "max_turns": 0}},
    ],
)
def test_a_bad_group_is_refused_and_nothing_is_made(http: httpx.Client, body: Any) -> None:
    agent = make_agent(http)
    if isinstance(body["agent_ids"], list):
        body = {
            **body,
            "agent_ids": [agent["id"] if a == "AGENT" else a for a in body["agent_ids"]],
        }
    before = http.get("/v1/groups/count").json()
    response = http.post("/v1/groups", json={"description": "bad", **body})
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()
    assert http.get("/v1/groups/count").json() == before
    assert http.get(f"/v1/agents/{agent['id']}/groups").json() == []
