"""Groups (Letta's multi-agent groups) through letta-client 0.1.x and plain HTTP: create,
read, change, delete, shared blocks, and each manager type's turn."""

import json
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script, unique


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

    # A missing shared block is a 404 naming it (it was a 409 "concurrent change"), and
    # neither a new group nor a change is made.
    before = http.get("/v1/groups/count").json()
    missing = "block-00000000-0000-0000-0000-000000000000"
    made = http.post(
        "/v1/groups",
        json={"description": "bad", "agent_ids": [one["id"]], "shared_block_ids": [missing]},
    )
    assert made.status_code == 404, made.text
    assert missing in made.json()["detail"]
    assert http.get("/v1/groups/count").json() == before
    changed = http.patch(
        f"/v1/groups/{group['id']}", json={"shared_block_ids": [missing], "description": "x"}
    )
    assert changed.status_code == 404, changed.text
    assert http.get(f"/v1/groups/{group['id']}").json()["description"] != "x"


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


def test_a_manager_config_change_keeps_what_it_leaves_out(http: httpx.Client) -> None:
    manager, one, two = make_agent(http), make_agent(http), make_agent(http)
    group = _group(
        http,
        agent_ids=[one["id"], two["id"]],
        manager_config={
            "manager_type": "dynamic",
            "manager_agent_id": manager["id"],
            "termination_token": "FIN",
            "max_turns": 5,
        },
    )
    changed = http.patch(
        f"/v1/groups/{group['id']}",
        json={"manager_config": {"manager_type": "dynamic", "max_turns": 4}},
    )
    assert changed.status_code == 200, changed.text
    kept = {k: changed.json()[k] for k in ("manager_agent_id", "termination_token", "max_turns")}
    assert kept == {"manager_agent_id": manager["id"], "termination_token": "FIN", "max_turns": 4}

    # Another manager type is a new config, checked whole: a supervisor needs its manager,
    # and the refused change changes nothing.
    refused = http.patch(
        f"/v1/groups/{group['id']}", json={"manager_config": {"manager_type": "supervisor"}}
    )
    assert refused.status_code == 422, refused.text
    assert http.get(f"/v1/groups/{group['id']}").json() == changed.json()


def _speakers(http: httpx.Client, response: dict[str, Any]) -> list[str]:
    """The agents of the trace's runs, in the order they ran."""
    trace = http.get(f"/v1/traces/{response['trace_id']}").json()
    order: list[dict[str, Any]] = []
    stack = list(trace["runs"])
    while stack:
        run = stack.pop(0)
        order.append(run)
        stack[:0] = run["children"]
    return [r["agent_id"] for r in sorted(order, key=lambda r: r["created_at"])]


def test_a_round_robin_group_speaks_in_turn_and_each_hears_the_others(
    http: httpx.Client, legacy_client: Any
) -> None:
    one, two = make_agent(http, model="test/echo"), make_agent(http, model="test/echo")
    group = _group(http, agent_ids=[one["id"], two["id"]], manager_config={"max_turns": 3})
    answer = legacy_client.groups.send_group_message(
        group_id=group["id"], agent_id=one["id"], messages=[{"role": "user", "content": "hello"}]
    )
    said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert len(said) == 3
    assert said[0] == "echo: hello"
    assert f"[Message from agent {one['name']}" in said[1]
    assert "echo: hello" in said[1]
    assert f"[Message from agent {two['name']}" in said[2]
    assert answer.usage.step_count == 3
    # Every turn is a run, one trace, each the child of the one before.
    raw = http.post(
        f"/v1/groups/{group['id']}/messages",
        json={"messages": [{"role": "user", "content": "again"}]},
    ).json()
    assert _speakers(http, raw) == [one["id"], two["id"], one["id"]]
    trace = http.get(f"/v1/traces/{raw['trace_id']}").json()
    assert len(trace["runs"]) == 1
    assert trace["runs"][0]["children"][0]["agent_id"] == two["id"]
    assert f"participant a2 as {two['name']}" in trace["mermaid"]
    # The group's messages are every member's, in order; reset removes them all.
    listed = legacy_client.groups.list_group_messages(group_id=group["id"], limit=100)
    assert [m.content for m in listed if m.message_type == "assistant_message"][:3] == said
    assert http.patch(f"/v1/groups/{group['id']}/reset-messages").status_code == 200
    assert http.get(f"/v1/groups/{group['id']}/messages").json() == []
    left = http.get(f"/v1/agents/{one['id']}/messages").json()
    assert [m["message_type"] for m in left] == [
        "system_message"
    ]  # the turns went, the prompt stays


def test_a_member_the_provider_fails_stops_the_group_turn_with_lettas_reason(
    http: httpx.Client, legacy_client: Any
) -> None:
    """The member's run fails with `llm_api_error` (why in its metadata["error"]), and the
    group's turn stops there with that reason, answered in full (through the 0.1.x SDK, the
    line with groups) and streamed alike."""
    one = make_agent(http, model="test/echo")
    down = make_agent(http, model="test/function:tests.support.models:unreachable")
    group = _group(http, agent_ids=[one["id"], down["id"]], manager_config={"max_turns": 3})
    answer = legacy_client.groups.send_group_message(
        group_id=group["id"], agent_id=one["id"], messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.stop_reason["stop_reason"] == "llm_api_error"  # 0.1.x: a plain dict
    said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert said == ["echo: hello"]  # the first member spoke; nobody after the failure
    response = http.post(
        f"/v1/groups/{group['id']}/messages/stream",
        json={"messages": [{"role": "user", "content": "again"}]},
    )
    events = [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: {")
    ]
    kinds = [e["message_type"] for e in events]
    assert kinds[-3:] == ["error_message", "stop_reason", "usage_statistics"]
    assert "HTTP 503" in events[-3]["message"]
    assert events[-2]["stop_reason"] == "llm_api_error"
    failed = http.get("/v1/runs/", params={"agent_id": down["id"]}).json()
    assert [(r["status"], r["stop_reason"]) for r in failed] == [("failed", "llm_api_error")] * 2
    assert all("HTTP 503" in r["metadata"]["error"] for r in failed)


def test_a_dynamic_group_lets_its_manager_pick_each_speaker_until_the_token(
    http: httpx.Client,
) -> None:
    manager = make_agent(http, model="test/function:tests.support.group_models:chooser")
    talker = make_agent(http, name=unique("ann"), model="test/echo")
    closer = make_agent(
        http, name=unique("bob"), model="test/function:tests.support.group_models:finisher"
    )
    group = _group(
        http,
        agent_ids=[talker["id"], closer["id"]],
        manager_config={
            "manager_type": "dynamic",
            "manager_agent_id": manager["id"],
            "max_turns": 5,
        },
    )
    assert group["termination_token"] == "DONE!"
    answer = http.post(
        f"/v1/groups/{group['id']}/messages",
        json={"messages": [{"role": "user", "content": "decide"}]},
    ).json()
    # The manager names ann (first option), ann speaks; then bob (ann just spoke), who ends it.
    assert _speakers(http, answer) == [manager["id"], talker["id"], manager["id"], closer["id"]]
    said = [m["content"] for m in answer["messages"] if m["message_type"] == "assistant_message"]
    assert said[0] == f"{talker['name']} should speak next"
    assert said[-1] == "that settles it, DONE!"
    assert answer["stop_reason"]["stop_reason"] == "end_turn"


def test_a_supervisor_asks_its_whole_group_and_answers(http: httpx.Client) -> None:
    boss = make_agent(http)
    workers = [make_agent(http, model="test/echo") for _ in range(2)]
    group = _group(
        http,
        agent_ids=[w["id"] for w in workers],
        manager_config={"manager_type": "supervisor", "manager_agent_id": boss["id"]},
    )
    plan = script(
        {"tool": "send_message_to_all_agents_in_group", "args": {"message": "status?"}},
        {"tool": "send_message", "args": {"message": "all reported"}},
    )
    response = http.post(
        f"/v1/groups/{group['id']}/messages/stream",
        json={"messages": [{"role": "user", "content": plan}]},
    )
    assert response.status_code == 200
    events = [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: {")
    ]
    returns = [e for e in events if e.get("message_type") == "tool_return_message"]
    assert all(w["id"] in returns[0]["tool_return"] for w in workers)
    assert "echo: " in returns[0]["tool_return"]
    assert events[-2]["message_type"] == "stop_reason"
    trace = http.get(f"/v1/traces/{response.headers['X-Troupe-Trace-Id']}").json()
    (root,) = trace["runs"]
    assert root["agent_id"] == boss["id"]
    assert sorted(c["agent_id"] for c in root["children"]) == sorted(w["id"] for w in workers)
    listed = http.get(f"/v1/groups/{group['id']}/messages", params={"limit": 100}).json()
    said = [m["content"] for m in listed if m["message_type"] == "assistant_message"]
    assert said[-1] == "all reported"
    assert len(said) == 3  # both workers', then the boss's


def test_a_bad_group_message_is_refused_before_anyone_speaks(http: httpx.Client) -> None:
    one = make_agent(http, model="test/echo")
    group = _group(http, agent_ids=[one["id"]])
    for body in ({"messages": []}, {"messages": [{"role": "user", "content": " "}]}, {}):
        response = http.post(f"/v1/groups/{group['id']}/messages", json=body)
        assert 400 <= response.status_code < 500, response.text
    assert http.post("/v1/groups/group-missing/messages", json={"input": "hi"}).status_code == 404
    http.delete(f"/v1/agents/{one['id']}")  # the group is left with nobody to speak
    response = http.post(f"/v1/groups/{group['id']}/messages", json={"input": "hi"})
    assert response.status_code == 422
    assert "no agents" in response.json()["detail"]
    assert http.get(f"/v1/groups/{group['id']}/messages").json() == []


def test_the_legacy_agent_id_of_a_group_message_changes_nothing(
    http: httpx.Client, legacy_client: Any
) -> None:
    """0.1.x's `send_group_message` requires `agent_id` because an early Letta route forgot
    its `group_id` path parameter and declared `agent_id: str` instead, which FastAPI read as
    a required query parameter; that route never read it, and later ones dropped it. The group
    speaks in its own order whichever agent (or none that exists) the parameter names."""
    one, two = make_agent(http, model="test/echo"), make_agent(http, model="test/echo")
    group = _group(http, agent_ids=[one["id"], two["id"]], manager_config={"max_turns": 2})
    for named in (two["id"], "agent-00000000-0000-4000-8000-000000000000"):
        answer = legacy_client.groups.send_group_message(
            group_id=group["id"], agent_id=named, messages=[{"role": "user", "content": "hi"}]
        )
        said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
        assert said[0] == "echo: hi"  # the first member speaks first, as always
        assert f"[Message from agent {one['name']}" in said[1]
