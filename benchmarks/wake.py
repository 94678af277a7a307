"""Benchmark 8: how soon an async cross-agent message starts its target's turn. Agent A
(scripted) sends to B (echo, 0 ms) with `send_message_to_agent_async`; the figure is B's
run's start minus the moment A's step that wrote the delivery was recorded, both read from
the runs' own records, so the client's polling does not enter it."""

import asyncio
import json
from datetime import datetime
from typing import Any

import httpx

from benchmarks.harness import SCRIPTED, Backend, agent_spec, checked, send, servers, summary

ASYNC_TOOL = "send_message_to_agent_async"


async def wake_latency(bk: Backend, sends: int) -> dict[str, Any]:
    """`sends` async sends, one at a time, each waited for until its target's turn ends."""
    async with servers(bk, label="wake") as s:
        receiver = await checked(s.main.post("/v1/agents", json=agent_spec()))
        sender = await checked(
            s.main.post("/v1/agents", json=agent_spec(SCRIPTED, tools=[ASYNC_TOOL]))
        )
        from_commit, from_call = [], []
        for i in range(sends + 1):  # the first is a warm-up
            call = {"message": f"wake {i}", "other_agent_id": receiver["id"]}
            text = "SCRIPT: " + json.dumps([{"tool": ASYNC_TOOL, "args": call}])
            answer = await send(s.main, sender["id"], text)
            called = next(m for m in answer["messages"] if m["message_type"] == "tool_call_message")
            sent = await checked(s.main.get(f"/v1/runs/{called['run_id']}"))
            started = await _delivered_run(s.main, receiver["id"], sent["id"])
            if i:
                from_commit.append(_ms(started["created_at"]) - _ms(sent["completed_at"]))
                from_call.append(_ms(started["created_at"]) - _ms(called["date"]))
    return {
        "settings": {"sends": sends, "receiver_model": "test/echo@0ms"},
        "commit_to_turn_start_ms": summary(from_commit),
        "tool_call_to_turn_start_ms": summary(from_call),
    }


async def _delivered_run(
    client: httpx.AsyncClient, receiver_id: str, sender_run_id: str
) -> dict[str, Any]:
    """The receiver's run of the message the sender's run sent, once it has completed (so
    that the next send finds the receiver idle)."""
    while True:
        runs = await _newest_runs(client, receiver_id)
        mine = [r for r in runs if r["parent_run_id"] == sender_run_id]
        if mine and mine[0]["status"] in {"completed", "failed"}:
            return mine[0]
        await asyncio.sleep(0.005)


async def _newest_runs(client: httpx.AsyncClient, agent_id: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/runs", params={"agent_id": agent_id, "limit": 5})
    answer.raise_for_status()
    runs: list[dict[str, Any]] = answer.json()
    return runs


def _ms(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
