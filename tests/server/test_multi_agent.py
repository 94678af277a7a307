"""Cross-agent messaging: the seed's three patterns, loop guards, timeouts, concurrency,
shared blocks under contention, and traces."""

import ast
import concurrent.futures
import json
from typing import Any

import httpx

from tests.server.helpers import (
    block_value,
    eventually,
    make_agent,
    of_type,
    script,
    send,
    unique,
)

PONGER = "test/function:tests.support.models:ponger"
RENDEZVOUS = "test/function:tests.support.models:rendezvous"


def _history(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    """The stored history: without the system prompt that heads every listed history."""
    listed = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000}).json()
    assert listed[0]["message_type"] == "system_message"
    return listed[1:]


def test_async_ping_gets_a_pong_back_at_the_sender(http: httpx.Client) -> None:
    pinger = make_agent(http, tools=["send_message_to_agent_async"])
    ponger = make_agent(http, model=PONGER, tools=["send_message_to_agent_async"])
    result = send(
        http,
        pinger["id"],
        script(
            {
                "tool": "send_message_to_agent_async",
                "args": {"message": "ping", "other_agent_id": ponger["id"]},
            }
        ),
    )
    receipt = of_type(result, "tool_return_message")[0]
    assert receipt["status"] == "success"
    assert result["stop_reason"]["stop_reason"] == "end_turn"

    def pong_arrived() -> list[dict[str, Any]]:
        return [
            m for m in _history(http, pinger["id"])
            if m["message_type"] == "system_message" and "pong" in m["content"]
        ]  # fmt: skip

    arrived = eventually(pong_arrived)
    assert len(arrived) == 1
    assert ponger["id"] in arrived[0]["content"]
    delivered = [m for m in _history(http, ponger["id"]) if m["message_type"] == "system_message"]
    assert len(delivered) == 1
    assert pinger["id"] in delivered[0]["content"]
    assert "send_message_to_agent_async" in delivered[0]["content"]  # says how to reply


def test_send_and_wait_returns_the_targets_words(http: httpx.Client) -> None:
    asker = make_agent(http, tools=["send_message_to_agent_and_wait_for_reply"])
    answerer = make_agent(http)
    result = send(
        http,
        asker["id"],
        script(
            {
                "tool": "send_message_to_agent_and_wait_for_reply",
                "args": {"message": "status?", "other_agent_id": answerer["id"]},
            },
            {"tool": "send_message", "args": {"message": "relayed"}},
        ),
    )
    answer = of_type(result, "tool_return_message")[0]
    assert answer["status"] == "success"
    entry = ast.literal_eval(answer["tool_return"])  # Letta's answer: a Python dict's text
    assert entry["agent_id"] == answerer["id"]
    assert [r.startswith("ack: [Message from agent") for r in entry["response"]] == [True]


def test_broadcast_reaches_every_tagged_worker_in_parallel_and_no_decoy(http: httpx.Client) -> None:
    team = unique("team")
    supervisor = make_agent(
        http, tags=[team, "supervisor"], tools=["send_message_to_agents_matching_all_tags"]
    )
    workers = [make_agent(http, tags=[team, "worker"]) for _ in range(3)]
    decoys = [make_agent(http, tags=[team]), make_agent(http, tags=["worker"])]
    result = send(
        http,
        supervisor["id"],
        script(
            {
                "tool": "send_message_to_agents_matching_all_tags",
                "args": {"message": "report", "tags": [team, "worker"]},
            },
            {"tool": "send_message", "args": {"message": "summary"}},
        ),
    )
    entries = ast.literal_eval(of_type(result, "tool_return_message")[0]["tool_return"])
    assert [e["agent_id"] for e in entries] == [w["id"] for w in workers]
    assert all(e["response"][0].startswith("ack: [Message from agent") for e in entries)
    for decoy in decoys:
        assert _history(http, decoy["id"]) == []


def test_a_cycle_of_waits_is_refused_at_once(http: httpx.Client) -> None:
    tools = ["send_message_to_agent_and_wait_for_reply"]
    a = make_agent(http, tools=tools)
    b = make_agent(http, tools=tools)
    # B, asked by A, tries to ask A back and wait: that would deadlock.
    inner = script(
        {
            "tool": "send_message_to_agent_and_wait_for_reply",
            "args": {"message": "loop", "other_agent_id": "{sender}"},
        },
        {"tool": "send_message", "args": {"message": "gave up"}},
    )
    result = send(
        http,
        a["id"],
        script(
            {
                "tool": "send_message_to_agent_and_wait_for_reply",
                "args": {"message": inner, "other_agent_id": b["id"]},
            },
            {"tool": "send_message", "args": {"message": "end"}},
        ),
    )
    returned = of_type(result, "tool_return_message")[0]["tool_return"]
    assert ast.literal_eval(returned) == {"agent_id": b["id"], "response": ["gave up"]}
    b_returns = [m for m in _history(http, b["id"]) if m["message_type"] == "tool_return_message"]
    refusal = json.loads(b_returns[0]["tool_return"])
    assert refusal["error"] == "cycle"
    assert refusal["chain"] == [a["id"], b["id"], a["id"]]


def test_ten_concurrent_senders_to_one_agent_are_all_processed_one_at_a_time(
    http: httpx.Client, server: Any
) -> None:
    agent = make_agent(http, model="test/echo@100ms")

    def one(i: int) -> dict[str, Any]:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            return send(c, agent["id"], f"message {i}")

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(10)))
    assert all(r["stop_reason"]["stop_reason"] == "end_turn" for r in results)
    history = _history(http, agent["id"])
    users = [m for m in history if m["message_type"] == "user_message"]
    assert sorted(m["content"] for m in users) == sorted(f"message {i}" for i in range(10))
    # One at a time: every user message is directly followed by its own reply.
    for index, message in enumerate(history):
        if message["message_type"] == "user_message":
            follower = history[index + 1]
            assert follower["run_id"] == message["run_id"]


def test_twenty_agents_appending_fifty_times_to_one_block_lose_nothing(
    http: httpx.Client, server: Any
) -> None:
    block = http.post("/v1/blocks/", json={"label": "log", "value": "", "limit": 100_000}).json()
    agents = [make_agent(http, block_ids=[block["id"]]) for _ in range(20)]

    def appends(agent: dict[str, Any]) -> None:
        entries = [
            {
                "tool": "core_memory_append",
                "args": {"label": "log", "content": f"{agent['id']}#{n}"},
            }
            for n in range(50)
        ]
        with httpx.Client(base_url=server.url, timeout=300) as c:
            result = send(
                c,
                agent["id"],
                script(*entries, {"tool": "send_message", "args": {"message": "ok"}}),
                max_steps=60,
            )
        assert all(r["status"] == "success" for r in of_type(result, "tool_return_message"))

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(appends, agents))
    lines = block_value(http, agents[0]["id"], "log").split("\n")
    assert len(lines) == 1000
    assert set(lines) == {f"{a['id']}#{n}" for a in agents for n in range(50)}


def test_a_trace_covers_every_agent_of_a_broadcast(http: httpx.Client) -> None:
    team = unique("team")
    supervisor = make_agent(
        http,
        name=unique("supervisor"),
        tags=[team],
        tools=["send_message_to_agents_matching_all_tags"],
    )
    workers = [make_agent(http, name=unique("worker"), tags=[team, "worker"]) for _ in range(2)]
    result = send(
        http,
        supervisor["id"],
        script(
            {
                "tool": "send_message_to_agents_matching_all_tags",
                "args": {"message": "go", "tags": [team, "worker"]},
            },
            {"tool": "send_message", "args": {"message": "summary"}},
        ),
    )
    run_id = result["messages"][0]["run_id"]
    trace_id = http.get(f"/v1/runs/{run_id}").json()["trace_id"]
    trace = http.get(f"/v1/traces/{trace_id}").json()
    assert [r["id"] for r in trace["runs"]] == [run_id]
    children = trace["runs"][0]["children"]
    assert sorted(c["agent_id"] for c in children) == sorted(w["id"] for w in workers)
    diagram = trace["mermaid"]
    assert diagram.startswith("sequenceDiagram")
    for agent in [supervisor, *workers]:
        assert agent["name"] in diagram
    broadcast = [line for line in diagram.splitlines() if "->>" in line and ": go" in line]
    assert len(broadcast) == len(workers), "each delivery is labelled with what was sent"
    assert all(line.endswith(": go") for line in broadcast)


def test_a_three_agent_cycle_is_refused_at_once(http: httpx.Client) -> None:
    tools = ["send_message_to_agent_and_wait_for_reply"]
    a, b, c = (make_agent(http, tools=tools) for _ in range(3))
    ask = "send_message_to_agent_and_wait_for_reply"
    to_a = script({"tool": ask, "args": {"message": "back to a", "other_agent_id": a["id"]}})
    to_c = script({"tool": ask, "args": {"message": to_a, "other_agent_id": c["id"]}})
    send(http, a["id"], script({"tool": ask, "args": {"message": to_c, "other_agent_id": b["id"]}}))
    c_returns = [m for m in _history(http, c["id"]) if m["message_type"] == "tool_return_message"]
    refusal = json.loads(c_returns[0]["tool_return"])
    assert refusal["error"] == "cycle"
    assert refusal["chain"] == [a["id"], b["id"], c["id"], a["id"]]


def test_block_updates_with_a_stale_expected_version_are_refused(http: httpx.Client) -> None:
    block = http.post("/v1/blocks/", json={"label": "plan", "value": "v1"}).json()
    first = http.patch(
        f"/v1/blocks/{block['id']}", json={"value": "v2", "expected_version": block["version"]}
    )
    assert first.status_code == 200
    assert first.json()["version"] == block["version"] + 1
    stale = http.patch(
        f"/v1/blocks/{block['id']}", json={"value": "v3", "expected_version": block["version"]}
    )
    assert stale.status_code == 409
    assert "changed since you read it" in stale.json()["detail"]
    assert http.get(f"/v1/blocks/{block['id']}").json()["value"] == "v2"


def test_broadcast_targets_run_concurrently(http: httpx.Client) -> None:
    team = unique("team")
    supervisor = make_agent(http, tags=[team], tools=["send_message_to_agents_matching_all_tags"])
    workers = [make_agent(http, tags=[team, "worker"], model=RENDEZVOUS) for _ in range(20)]
    # Each worker's model call waits until all 20 are in flight at once: broadcast one target
    # after another and the first would meet only itself.
    result = send(
        http,
        supervisor["id"],
        script(
            {
                "tool": "send_message_to_agents_matching_all_tags",
                "args": {"message": f"RENDEZVOUS {team} 20", "tags": [team, "worker"]},
            },
            {"tool": "send_message", "args": {"message": "all met"}},
        ),
    )
    entries = ast.literal_eval(of_type(result, "tool_return_message")[0]["tool_return"])
    assert [e["agent_id"] for e in entries] == [w["id"] for w in workers]
    assert [e.get("response") for e in entries] == [["met 20 of 20"]] * 20
