"""Send-and-wait chains for the crash and takeover tests: a parent asks its child with
send_message_to_agent_and_wait_for_reply, then answers "done chain-N"; both models note each
call in the CHAIN_CALL_LOG file (tests.support.models.counted)."""

import time
from collections import Counter
from typing import Any

import httpx

from tests.server.helpers import make_agent, script

COUNTED = "test/function:tests.support.models:counted"
WAIT_TOOL = "send_message_to_agent_and_wait_for_reply"


def start_chain(http: httpx.Client, n: int, child_latency_ms: int) -> dict[str, Any]:
    child = make_agent(http, model=f"{COUNTED}@{child_latency_ms}ms")
    parent = make_agent(http, model=f"{COUNTED}@20ms", tools=[WAIT_TOOL])
    ask = script(
        {"tool": WAIT_TOOL, "args": {"other_agent_id": child["id"], "message": f"chain-{n}"}},
        {"tool": "send_message", "args": {"message": f"done chain-{n}"}},
    )
    run = http.post(
        f"/v1/agents/{parent['id']}/messages/async", json={"input": f"{ask}\nchain-{n}"}
    ).json()
    return {"n": n, "parent": parent, "child": child, "run": run["id"]}


def statuses(http: httpx.Client, chains: list[dict[str, Any]]) -> Counter[str]:
    return Counter(http.get(f"/v1/runs/{c['run']}").json()["status"] for c in chains)


def wait_until_ended(
    http: httpx.Client, chains: list[dict[str, Any]], count: int, timeout: float
) -> Counter[str]:
    """The chains' statuses once `count` of them ended (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    seen = statuses(http, chains)
    while seen["completed"] + seen["failed"] < count and time.monotonic() < deadline:
        time.sleep(0.25)
        seen = statuses(http, chains)
    return seen


def steps_of(http: httpx.Client, agent_id: str) -> int:
    runs = http.get("/v1/runs/", params={"agent_id": agent_id, "limit": 100}).json()
    return sum(len(http.get(f"/v1/runs/{r['id']}/steps").json()) for r in runs)


def runs_of(http: httpx.Client, agent_id: str) -> int:
    return len(http.get("/v1/runs/", params={"agent_id": agent_id}).json())


def check_completed(http: httpx.Client, chain: dict[str, Any]) -> None:
    """The chain ran once through: the parent's answer, the child's reply as the result of
    the call in the call's own step, two steps of the parent and one run of one step of the
    child."""
    n, messages = chain["n"], http.get(f"/v1/runs/{chain['run']}/messages").json()
    replies = [m["content"] for m in messages if m["message_type"] == "assistant_message"]
    assert replies == [f"done chain-{n}"], (n, messages)
    returns = [m for m in messages if m["message_type"] == "tool_return_message"]
    assert len(returns) == 1, (n, returns)
    assert "ack:" in returns[0]["tool_return"], (n, returns)
    calls = [m for m in messages if m["message_type"] == "tool_call_message"]
    assert calls[0]["step_id"] == returns[0]["step_id"], "one step: the call and its result"
    counts = (steps_of(http, chain["parent"]["id"]), steps_of(http, chain["child"]["id"]))
    assert counts == (2, 1), (n, counts)
    assert runs_of(http, chain["child"]["id"]) == 1, n
