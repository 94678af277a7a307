"""Restarts, graceful or not, keep every agent, block, tool, tag and message."""

from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, send, unique
from tests.support.servers import ServerProcess


def everything(url: str) -> dict[str, Any]:
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


@pytest.mark.parametrize("how", ["restart", "sigkill"])
def test_a_restart_keeps_everything(fresh_server: ServerProcess, how: str) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        shared = http.post("/v1/blocks/", json={"label": "team", "value": "plan"}).json()
        http.put(
            "/v1/tools/",
            json={"source_code": "def roll(sides: int) -> int:\n    '''Roll.'''\n    return sides"},
        )
        first = make_agent(
            http, block_ids=[shared["id"]], tags=[unique("x"), "team"], tools=["roll"]
        )
        make_agent(
            http,
            block_ids=[shared["id"]],
            tags=["team"],
            memory_blocks=[{"label": "persona", "value": "p"}],
        )
        send(http, first["id"], "hello")
        http.patch(f"/v1/blocks/{shared['id']}", json={"value": "plan v2"})
    before = everything(fresh_server.url)
    if how == "restart":
        fresh_server.restart()
    else:
        fresh_server.kill()
        fresh_server.start()
    after = everything(fresh_server.url)
    assert after == before
    assert any(b["value"] == "plan v2" for b in after["blocks"])
    assert any(t["name"] == "roll" for t in after["tools"])


def test_an_async_run_interrupted_by_a_crash_never_stays_running(
    fresh_server: ServerProcess,
) -> None:
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        agent = make_agent(http, model="test/echo@4000ms")
        run = http.post(
            f"/v1/agents/{agent['id']}/messages/async", json={"input": "slow one"}
        ).json()
        queued = http.post(
            f"/v1/agents/{agent['id']}/messages/async", json={"input": "queued"}
        ).json()
    fresh_server.kill()
    fresh_server.start()
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        import time

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
