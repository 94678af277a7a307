"""Drill: SIGKILL the server during 50 send-and-wait chains. After the restart every chain
completes: a child that had answered delivers its reply to its waiting parent, which goes
on; a child that had not answered runs on; nothing runs twice (each agent's stored steps
are exactly those of one chain, each child has one run), and the model was asked again
only for the calls the kill cut (their answers were never stored)."""

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script
from tests.support.servers import ServerProcess

CHAINS = 50
COUNTED = "test/function:tests.support.models:counted"
WAIT_TOOL = "send_message_to_agent_and_wait_for_reply"


def _start_chains(http: httpx.Client) -> list[dict[str, Any]]:
    chains = []
    for n in range(CHAINS):
        # Children answer at spread-out times, so the kill finds chains at every stage.
        child = make_agent(http, model=f"{COUNTED}@{300 + 60 * n}ms")
        parent = make_agent(http, model=f"{COUNTED}@20ms", tools=[WAIT_TOOL])
        ask = script(
            {"tool": WAIT_TOOL, "args": {"other_agent_id": child["id"], "message": f"chain-{n}"}},
            {"tool": "send_message", "args": {"message": f"done chain-{n}"}},
        )
        run = http.post(
            f"/v1/agents/{parent['id']}/messages/async", json={"input": f"{ask}\nchain-{n}"}
        ).json()
        chains.append({"n": n, "parent": parent, "child": child, "run": run["id"]})
    return chains


def _statuses(http: httpx.Client, chains: list[dict[str, Any]]) -> Counter[str]:
    return Counter(http.get(f"/v1/runs/{c['run']}").json()["status"] for c in chains)


def _wait_until(
    http: httpx.Client, chains: list[dict[str, Any]], done: int, timeout: float
) -> Counter[str]:
    deadline = time.monotonic() + timeout
    statuses = _statuses(http, chains)
    while statuses["completed"] + statuses["failed"] < done and time.monotonic() < deadline:
        time.sleep(0.25)
        statuses = _statuses(http, chains)
    return statuses


def _steps(http: httpx.Client, agent_id: str) -> int:
    runs = http.get("/v1/runs/", params={"agent_id": agent_id, "limit": 100}).json()
    return sum(len(http.get(f"/v1/runs/{r['id']}/steps").json()) for r in runs)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_50_chains_completes_every_chain_once(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    calls = tmp_path / "model-calls.log"
    calls.touch()
    server = ServerProcess(database_factory(backend), tmp_path, env={"CHAIN_CALL_LOG": str(calls)})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            chains = _start_chains(http)
            at_kill = _wait_until(http, chains, 8, timeout=60)
        server.kill()
        calls_at_kill = Counter(calls.read_text().splitlines())
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            statuses = _wait_until(http, chains, CHAINS, timeout=120)
            answers = {c["n"]: http.get(f"/v1/runs/{c['run']}/messages").json() for c in chains}
            steps = {
                c["n"]: (_steps(http, c["parent"]["id"]), _steps(http, c["child"]["id"]))
                for c in chains
            }
            child_runs = {
                c["n"]: len(http.get("/v1/runs/", params={"agent_id": c["child"]["id"]}).json())
                for c in chains
            }
    finally:
        server.stop()
    seen = Counter(line.split(" ")[0] for line in calls.read_text().splitlines())
    # Chains whose parent had asked (its first model call answered) while its child had not
    # answered yet: the kill cut them mid-wait.
    waiting_at_kill = [
        n
        for n in range(CHAINS)
        if calls_at_kill[f"parent chain-{n}"] == 1 and not calls_at_kill[f"child chain-{n}"]
    ]
    print(  # the drill's numbers, for the report (pytest -s)
        f"\n[{backend}] chains {CHAINS}, kills 1, finished at kill {at_kill['completed']}, "
        f"model calls expected {3 * CHAINS} (parents {2 * CHAINS}, children {CHAINS}), "
        f"answered {sum(seen.values())} ({dict(seen)}), before the kill "
        f"{sum(calls_at_kill.values())}; chains waiting on their child at the kill "
        f"{len(waiting_at_kill)}"
    )
    assert waiting_at_kill, "the kill should cut some chains mid-wait"
    assert 8 <= at_kill["completed"] < CHAINS, f"the kill should land mid-drill: {at_kill}"
    assert statuses == Counter({"completed": CHAINS}), statuses
    for n, messages in answers.items():
        replies = [m["content"] for m in messages if m["message_type"] == "assistant_message"]
        assert replies == [f"done chain-{n}"], (n, messages)
        returns = [m for m in messages if m["message_type"] == "tool_return_message"]
        assert len(returns) == 1, (n, returns)
        assert "ack:" in returns[0]["tool_return"], (n, returns)
        calls_made = [m for m in messages if m["message_type"] == "tool_call_message"]
        assert calls_made[0]["step_id"] == returns[0]["step_id"], "one step: call and result"
    # Nothing ran twice: one model answer stored per step of one chain, one run per child.
    assert steps == {n: (2, 1) for n in range(CHAINS)}
    assert child_runs == {n: 1 for n in range(CHAINS)}
    # The model was asked again only where the kill cut a call before its answer was stored:
    # at most once per agent.
    assert 3 * CHAINS <= sum(seen.values()) <= 3 * CHAINS + 2 * CHAINS
