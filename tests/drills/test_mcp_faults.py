"""MCP servers that hang and crash, under 20 agents at once, on SQLite and PostgreSQL.

Real MCP servers (written with the `mcp` SDK): one over streamable HTTP whose `hang` tool
never answers, one over stdio (started by troupe in its sandbox) whose `die` tool kills it,
and a healthy stdio one. Twenty agents send at once: four call the hanging tool, four the
crashing one, and twelve answer normally (three through another tool of the hanging server,
three through the healthy server). Every agent's turn
ends with a reply; the faulty calls end as clear tool errors; the normal agents have all
answered while the hanging calls still wait; the crashed server is started afresh by the
next call; and the troupe server is unharmed, its store intact."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.drills.helpers import assert_store_intact
from tests.server.helpers import make_agent, of_type, script
from tests.support.mcp_test_servers import McpHttpServer, running_http_mcp, stdio_config
from tests.support.servers import ServerProcess

TIMEOUT_S = 8  # the MCP call timeout of the drill's server
AGENTS = 20


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {"TROUPE_MCP_TIMEOUT": str(TIMEOUT_S)}
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("d"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http_mcp() -> Iterator[McpHttpServer]:
    with running_http_mcp() as server:
        yield server


def _tools(http: httpx.Client, server_name: str, config: dict[str, Any]) -> dict[str, str]:
    """Add the MCP server; its tools by their name on the server -> troupe's tool name/id."""
    response = http.post("/v1/mcp-servers", json={"server_name": server_name, "config": config})
    assert response.status_code == 200, response.text
    tools = http.get(f"/v1/mcp-servers/{response.json()['id']}/tools").json()
    return {t["name"].rsplit("__", 1)[-1]: t for t in tools}


def _plan(
    hanging: dict[str, Any], crashing: dict[str, Any], healthy: dict[str, Any]
) -> list[tuple[str, list[Any]]]:
    """(role, script) per agent: 4 hang, 4 crash, 6 use healthy MCP tools, 6 just reply."""
    hang = [{"tool": hanging["hang"]["name"], "args": {}}]
    die = [{"tool": crashing["die"]["name"], "args": {}}]
    shout = [{"tool": hanging["shout"]["name"], "args": {"text": "fine"}}]
    add = [{"tool": healthy["add"]["name"], "args": {"a": 2, "b": 2}}]
    plan = [("hang", hang)] * 4 + [("crash", die)] * 4
    plan += [("normal", shout)] * 3 + [("normal", add)] * 3 + [("normal", [])] * 6
    reply = {"tool": "send_message", "args": {"message": "still here"}}
    return [(role, [*steps, reply]) for role, steps in plan]


async def _turn(http: httpx.AsyncClient, agent_id: str, steps: list[Any]) -> dict[str, Any]:
    response = await http.post(
        f"/v1/agents/{agent_id}/messages",
        json={"messages": [{"role": "user", "content": script(*steps)}]},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    result["finished_at"] = time.monotonic()
    return result


async def test_hanging_and_crashing_mcp_servers_leave_every_other_agent_answering(
    target: ServerProcess, http_mcp: McpHttpServer
) -> None:
    with httpx.Client(base_url=target.url, timeout=120) as http:
        hanging = _tools(http, "drill-hanging", {"server_url": http_mcp.url})
        crashing = _tools(http, "drill-crashing", stdio_config())
        healthy = _tools(http, "drill-healthy", stdio_config())
        servers = (hanging, crashing, healthy)
        tool_ids = [t["id"] for server in servers for t in server.values()]
        plan = _plan(*servers)
        agents = [make_agent(http, tool_ids=tool_ids) for _ in plan]
    assert len(agents) == AGENTS

    async with httpx.AsyncClient(base_url=target.url, timeout=120) as client:
        results = await asyncio.gather(
            *(
                _turn(client, agent["id"], steps)
                for agent, (_, steps) in zip(agents, plan, strict=False)
            )
        )

    for (role, _), result in zip(plan, results, strict=False):
        assert of_type(result, "assistant_message")[-1]["content"] == "still here", result
        assert result["stop_reason"]["stop_reason"] == "end_turn"
        returns = of_type(result, "tool_return_message")
        if role == "hang":
            assert returns[0]["status"] == "error"
            assert f"did not answer within {TIMEOUT_S} s" in returns[0]["tool_return"]
        elif role == "crash":
            assert returns[0]["status"] == "error"
            assert "MCP server 'drill-crashing'" in returns[0]["tool_return"]
        else:
            assert all(r["status"] == "success" for r in returns), returns
            assert [r["tool_return"] for r in returns] in ([], ["FINE"], ["4"])
    normal_done = max(
        r["finished_at"] for (role, _), r in zip(plan, results, strict=False) if role == "normal"
    )
    hang_done = min(
        r["finished_at"] for (role, _), r in zip(plan, results, strict=False) if role == "hang"
    )
    assert normal_done < hang_done, "every normal agent answered while the hung calls waited"

    # The crashed server is started afresh, the hanging one serves its other tools, and the
    # troupe server is unharmed.
    async with httpx.AsyncClient(base_url=target.url, timeout=120) as client:
        again = await asyncio.gather(
            _turn(
                client,
                agents[0]["id"],
                [{"tool": crashing["add"]["name"], "args": {"a": 1, "b": 1}}],
            ),
            _turn(
                client,
                agents[1]["id"],
                [{"tool": hanging["shout"]["name"], "args": {"text": "ok"}}],
            ),
        )
    assert [of_type(r, "tool_return_message")[0]["tool_return"] for r in again] == ["2", "OK"]
    assert target.process is not None
    assert target.process.poll() is None
    with httpx.Client(base_url=target.url, timeout=60) as http:
        assert http.get("/v1/health/").json()["status"] == "ok"
    assert_store_intact(target.database_url)
