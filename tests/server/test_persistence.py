"""Restarts, graceful or not, keep every agent, block, tool, tag and message, as both
official SDK lines and plain HTTP see them."""

import time
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.server.helpers import SCRIPTED, script, send, unique
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

DICE = '''def roll(sides: int, times: int = 1) -> int:
    """Roll a die.

    Args:
        sides: How many faces.
        times: How often.
    """
    return sides * times
'''


def through_http(url: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as http:
        agents = http.get("/v1/agents/", params={"limit": 1000}).json()
        return {
            "agents": agents,
            "blocks": http.get("/v1/blocks/", params={"limit": 1000}).json(),
            "tools": http.get("/v1/tools/", params={"limit": 1000}).json(),
            "tags": http.get("/v1/tags/").json(),
            "messages": {
                a["id"]: http.get(f"/v1/agents/{a['id']}/messages").json() for a in agents
            },
        }


def through_sdks(url: str) -> dict[str, Any]:
    """Everything as the SDKs' users read it, down to each block by label."""
    current = Letta(base_url=url)
    legacy = legacy_sdk().Letta(base_url=url)
    agents = list(current.agents.list(limit=2))  # auto-paging, two at a time
    blocks = list(current.blocks.list(limit=2))
    return {
        "agents": [a.model_dump(mode="json") for a in agents],
        "blocks": [b.model_dump(mode="json") for b in blocks],
        "tools": [t.model_dump(mode="json") for t in current.tools.list(limit=5)],
        "tags": current.tags.list(),
        "by_label": {
            a.id: [
                current.agents.blocks.retrieve(b.label, agent_id=a.id).model_dump(mode="json")
                for b in a.memory.blocks
            ]
            for a in agents
        },
        "holders": {b.id: [a.id for a in current.blocks.agents.list(b.id)] for b in blocks},
        "legacy_agents": [
            legacy.agents.retrieve(agent_id=a.id).model_dump(mode="json") for a in agents
        ],
        "legacy_tags": legacy.tag.list_tags(),
    }


def build_a_team(url: str) -> dict[str, str]:
    """A supervisor and two workers sharing a block, a custom tool, tags, an edited block
    and a conversation."""
    client = Letta(base_url=url)
    team = unique("team")
    shared = client.blocks.create(
        label="team_tasks", value="[]", limit=500, description="what is left", metadata={"v": 1}
    )
    rules = client.blocks.create(label="rules", value="be kind", read_only=True)
    tool = client.tools.upsert(source_code=DICE, tags=["games"], return_char_limit=100)
    supervisor = client.agents.create(
        name="supervisor",
        model=SCRIPTED,
        system="You coordinate.",
        memory_blocks=[{"label": "persona", "value": "I lead.", "limit": 50}],
        block_ids=[shared.id, rules.id],
        tool_ids=[tool.id],
        tags=[team, "supervisor"],
        tools=["send_message_to_agent_async"],
        metadata={"role": "lead"},
    )
    for i in range(2):
        client.agents.create(
            name=f"worker-{i}",
            model=SCRIPTED,
            memory_blocks=[{"label": "persona", "value": f"I am worker {i}."}],
            block_ids=[shared.id],
            tags=[team, "worker"],
        )
    client.blocks.update(shared.id, value='["count sales"]')  # version 2
    with httpx.Client(base_url=url, timeout=30) as http:
        send(http, supervisor.id, "hello")
    return {"shared": shared.id, "tool": tool.id, "supervisor": supervisor.id, "team": team}


@pytest.mark.parametrize("how", ["restart", "sigkill"])
def test_a_restart_keeps_everything(fresh_server: ServerProcess, how: str) -> None:
    made = build_a_team(fresh_server.url)
    before = (through_http(fresh_server.url), through_sdks(fresh_server.url))

    if how == "restart":
        fresh_server.restart()
    else:
        fresh_server.kill()  # no shutdown hook runs
        fresh_server.start()

    after = (through_http(fresh_server.url), through_sdks(fresh_server.url))
    assert after[0] == before[0]
    assert after[1] == before[1]

    # Not only equal, but what was written: spot checks against the inputs.
    client = Letta(base_url=fresh_server.url)
    shared = client.blocks.retrieve(made["shared"])
    assert (shared.value, shared.limit, shared.description) == (
        '["count sales"]',
        500,
        "what is left",
    )
    assert shared.version == 2
    assert len(list(client.blocks.agents.list(made["shared"]))) == 3
    workers = client.agents.list(tags=[made["team"], "worker"], match_all_tags=True)
    assert sorted(a.name for a in workers) == ["worker-0", "worker-1"]
    supervisor = client.agents.retrieve(made["supervisor"])
    assert supervisor.metadata == {"role": "lead"}
    assert "roll" in [t.name for t in supervisor.tools]
    assert "send_message_to_agent_async" in [t.name for t in supervisor.tools]
    assert client.tools.retrieve(made["tool"]).json_schema["parameters"]["required"] == ["sides"]
    assert any(m["message_type"] == "user_message" for m in after[0]["messages"][supervisor.id])

    # And the restarted server goes on writing next to what it kept.
    newcomer = client.agents.create(
        name="late", block_ids=[made["shared"]], tool_ids=[made["tool"]]
    )
    assert newcomer.id not in {a["id"] for a in before[0]["agents"]}
    assert len(list(client.blocks.agents.list(made["shared"]))) == 4


def test_an_async_run_interrupted_by_a_crash_never_stays_running(
    fresh_server: ServerProcess,
) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        agent = http.post(
            "/v1/agents/", json={"name": unique("slow"), "model": "test/echo@4000ms"}
        ).json()
        run = http.post(
            f"/v1/agents/{agent['id']}/messages/async", json={"input": "slow one"}
        ).json()
        queued = http.post(
            f"/v1/agents/{agent['id']}/messages/async", json={"input": "queued"}
        ).json()
    fresh_server.kill()
    fresh_server.start()
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = {
                r: http.get(f"/v1/runs/{r}").json()["status"] for r in (run["id"], queued["id"])
            }
            if all(s in {"completed", "failed"} for s in statuses.values()):
                break
            time.sleep(0.25)
        history = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert all(s in {"completed", "failed"} for s in statuses.values()), statuses
    users = [m["content"] for m in history if m["message_type"] == "user_message"]
    assert sorted(users) == sorted(set(users)), "no input may be processed twice"
    assert "queued" in users or statuses[queued["id"]] == "failed"


def test_a_crash_mid_broadcast_does_not_run_the_workers_turns_twice(
    fresh_server: ServerProcess,
) -> None:
    team = unique("team")
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        supervisor = http.post(
            "/v1/agents/",
            json={
                "name": unique("supervisor"),
                "model": SCRIPTED,
                "tools": ["send_message_to_agents_matching_all_tags"],
            },
        ).json()
        worker = http.post(
            "/v1/agents/",
            json={"name": unique("worker"), "model": "test/echo@30000ms", "tags": [team]},
        ).json()
        broadcast = script(
            {
                "tool": "send_message_to_agents_matching_all_tags",
                "args": {"message": "work", "tags": [team]},
            }
        )
        run = http.post(
            f"/v1/agents/{supervisor['id']}/messages/async", json={"input": broadcast}
        ).json()
        # The supervisor's first step is still waiting on the worker (nothing of it stored)
        # when the server dies.
        deadline = time.monotonic() + 30
        while not http.get("/v1/runs/", params={"agent_id": worker["id"]}).json():
            assert time.monotonic() < deadline, "the broadcast never reached the worker"
            time.sleep(0.1)
    fresh_server.kill()
    fresh_server.start()
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        # On PostgreSQL another process might still own a running run, so it is taken as
        # interrupted only once its heartbeat is 30 s old, at the next 5 s maintenance round.
        deadline = time.monotonic() + 60
        while http.get(f"/v1/runs/{run['id']}").json()["status"] not in {"completed", "failed"}:
            assert time.monotonic() < deadline, "the interrupted run stayed unfinished"
            time.sleep(0.2)
        time.sleep(1)  # had the run been queued again, its broadcast would start now
        assert http.get(f"/v1/runs/{run['id']}").json()["status"] == "failed"
        worker_runs = http.get("/v1/runs/", params={"agent_id": worker["id"]}).json()
    assert len(worker_runs) == 1, "the worker's turn must not run again"
