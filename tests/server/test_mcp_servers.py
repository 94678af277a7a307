"""MCP servers through both official SDK lines, on SQLite and PostgreSQL, against real MCP
servers written with the `mcp` SDK: one over stdio (started by troupe in its sandbox), one
over streamable HTTP on 127.0.0.1. Their tools become ordinary troupe tools that agents call
in their turns; secrets in a server's config are never shown."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import NotFoundError

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.mcp_test_servers import McpHttpServer, running_http_mcp, stdio_config
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

SECRET_ENV = "s3cret-env-value"
SECRET_TOKEN = "s3cret-auth-token"
TOOLS = ["add", "shout", "environment", "fail", "hang", "die", "garbage", "fill_disk", "flood"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mcp_server_proc(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A troupe server with a short MCP timeout, and a secret an MCP server must not see."""
    env = {"TROUPE_MCP_TIMEOUT": "3", "OPENAI_API_KEY": "sk-must-not-leak"}
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("m"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http_mcp() -> Iterator[McpHttpServer]:
    with running_http_mcp() as server:
        yield server


@pytest.fixture
def api(mcp_server_proc: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mcp_server_proc.url, timeout=60) as client:
        yield client


@pytest.fixture
def sdk(mcp_server_proc: ServerProcess) -> Any:
    from letta_client import Letta

    return Letta(base_url=mcp_server_proc.url, max_retries=0)


@pytest.fixture
def legacy(mcp_server_proc: ServerProcess) -> Any:
    return legacy_sdk().Letta(base_url=mcp_server_proc.url)


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stdio_server(sdk: Any, **env: str) -> Any:
    config = stdio_config(env={"GREETING": SECRET_ENV, **env})
    return sdk.mcp_servers.create(
        server_name=name("stdio"), config={"mcp_server_type": "stdio", **config}
    )


def mcp_name(tool: Any) -> str:
    """The tool's name on its MCP server (troupe's name is `<server>__<name>` when another
    server's tool took the plain one first)."""
    return str(tool.name).rsplit("__", 1)[-1]


def tool_named(sdk: Any, server_id: str, tool: str) -> Any:
    return next(t for t in sdk.mcp_servers.tools.list(server_id) if mcp_name(t) == tool)


# --- letta-client 1.x ------------------------------------------------------------------------


def test_current_sdk_stdio_server_brings_its_tools_and_runs_them(
    sdk: Any, api: httpx.Client
) -> None:
    server = stdio_server(sdk)
    assert server.id.startswith("mcp_server-")
    assert server.mcp_server_type == "stdio"
    assert server.env == {"PYTHONPATH": "<hidden>", "GREETING": "<hidden>"}
    listed = sdk.mcp_servers.tools.list(server.id)
    assert [mcp_name(t) for t in listed] == TOOLS
    add = listed[0]
    assert add.name in {"add", f"{server.server_name}__add"}
    assert add.tool_type == "external_mcp"
    assert add.json_schema["parameters"]["required"] == ["a", "b"]
    assert sdk.mcp_servers.tools.retrieve(add.id, mcp_server_id=server.id).id == add.id
    assert sdk.tools.retrieve(add.id).tags == [f"mcp:{server.server_name}"]  # an ordinary tool

    ran = sdk.mcp_servers.tools.run(add.id, mcp_server_id=server.id, args={"a": 2, "b": 3})
    assert (ran.status, ran.func_return) == ("success", "5")
    failed = sdk.mcp_servers.tools.run(
        tool_named(sdk, server.id, "fail").id, mcp_server_id=server.id, args={"reason": "nope"}
    )
    assert failed.status == "error"
    assert "nope" in failed.func_return
    hung = sdk.mcp_servers.tools.run(tool_named(sdk, server.id, "hang").id, mcp_server_id=server.id)
    assert hung.status == "error"
    assert "did not answer within 3 s" in hung.func_return
    again = sdk.mcp_servers.tools.run(add.id, mcp_server_id=server.id, args={"a": 1, "b": 1})
    assert again.func_return == "2"  # reconnected


def test_current_sdk_server_update_refresh_and_delete(sdk: Any, api: httpx.Client) -> None:
    server = stdio_server(sdk)
    assert [s.id for s in sdk.mcp_servers.list() if s.id == server.id] == [server.id]
    renamed = sdk.mcp_servers.update(
        server.id, server_name=name("renamed"), config={"env": {"GREETING": "<hidden>"}}
    )
    assert renamed.server_name.startswith("renamed-")
    assert renamed.env == {"GREETING": "<hidden>"}  # PYTHONPATH dropped, GREETING kept
    refused = api.patch(f"/v1/mcp-servers/{server.id}/refresh")
    # Without PYTHONPATH the server cannot start: a clear 424 naming why, nothing deleted.
    assert refused.status_code == 424
    assert "No module named 'mcp'" in refused.json()["detail"]
    fixed = sdk.mcp_servers.update(
        server.id, config={"env": {**stdio_config()["env"], "GREETING": "<hidden>"}}
    )
    assert set(fixed.env) == {"PYTHONPATH", "GREETING"}
    refreshed = sdk.mcp_servers.refresh(server.id)
    assert refreshed == {"added": [], "updated": [], "deleted": [], "skipped": []}
    greeting = json.loads(
        sdk.mcp_servers.tools.run(
            tool_named(sdk, server.id, "environment").id, mcp_server_id=server.id
        ).func_return
    )["greeting"]
    assert greeting == SECRET_ENV  # the hidden value was kept through both updates

    tool_id = tool_named(sdk, server.id, "add").id
    sdk.mcp_servers.delete(server.id)
    with pytest.raises(NotFoundError):
        sdk.mcp_servers.retrieve(server.id)
    with pytest.raises(NotFoundError):
        sdk.tools.retrieve(tool_id)  # its tools went with it


def test_current_sdk_streamable_http_server_with_an_auth_token(
    sdk: Any, api: httpx.Client, http_mcp: McpHttpServer
) -> None:
    server = sdk.mcp_servers.create(
        server_name=name("http"),
        config={
            "mcp_server_type": "streamable_http",
            "server_url": http_mcp.url,
            "auth_header": "Authorization",
            "auth_token": SECRET_TOKEN,
            "custom_headers": {"X-Api-Key": SECRET_TOKEN},
        },
    )
    assert server.mcp_server_type == "streamable_http"
    assert server.auth_token is None
    assert server.custom_headers == {"X-Api-Key": "<hidden>"}
    shout = tool_named(sdk, server.id, "shout")
    ran = sdk.mcp_servers.tools.run(shout.id, mcp_server_id=server.id, args={"text": "hi"})
    assert ran.func_return == "HI"
    for path in ("/v1/mcp-servers", f"/v1/mcp-servers/{server.id}", "/v1/tools/mcp/servers"):
        body = api.get(path).text
        assert SECRET_TOKEN not in body
        assert SECRET_ENV not in body


def test_an_agent_calls_mcp_tools_in_its_turn(sdk: Any, api: httpx.Client) -> None:
    server = stdio_server(sdk)
    tools = {mcp_name(t): t for t in sdk.mcp_servers.tools.list(server.id)}
    add, hang, environment = tools["add"], tools["hang"], tools["environment"]
    agent = make_agent(api, tool_ids=[add.id, hang.id, environment.id])
    result = send(
        api,
        agent["id"],
        script(
            {"tool": add.name, "args": {"a": 20, "b": 22}},
            {"tool": hang.name, "args": {}},
            {"tool": environment.name, "args": {}},
            {"tool": "send_message", "args": {"message": "done"}},
        ),
    )
    returns = of_type(result, "tool_return_message")
    assert [r["status"] for r in returns] == ["success", "error", "success"]
    assert returns[0]["tool_return"] == "42"
    assert "did not answer within 3 s" in returns[1]["tool_return"]
    seen = json.loads(returns[2]["tool_return"])
    assert "OPENAI_API_KEY" not in seen["names"]
    assert of_type(result, "assistant_message")[-1]["content"] == "done"
    history = api.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 50}).json()
    calls = [m["tool_call"]["name"] for m in history if m["message_type"] == "tool_call_message"]
    assert calls[:3] == [add.name, hang.name, environment.name]  # recorded like any call
    run = api.get(f"/v1/runs/{result['messages'][0]['run_id']}").json()
    trace = api.get(f"/v1/traces/{run['trace_id']}").json()
    traced = [m for m in trace["runs"][0]["messages"] if m["message_type"] == "tool_return_message"]
    assert [m["tool_return"] for m in traced][:1] == ["42"]  # and in the request's trace


def test_current_sdk_sse_server_runs_its_tools(sdk: Any) -> None:
    with running_http_mcp("sse") as sse:
        server = sdk.mcp_servers.create(
            server_name=name("sse"), config={"mcp_server_type": "sse", "server_url": sse.url}
        )
        assert server.mcp_server_type == "sse"
        shout = tool_named(sdk, server.id, "shout")
        ran = sdk.mcp_servers.tools.run(shout.id, mcp_server_id=server.id, args={"text": "sse"})
        assert (ran.status, ran.func_return) == ("success", "SSE")


def test_tool_rules_apply_to_mcp_tools(sdk: Any, api: httpx.Client) -> None:
    server = stdio_server(sdk)
    add = tool_named(sdk, server.id, "add")
    agent = make_agent(
        api, tool_ids=[add.id], tool_rules=[{"type": "exit_loop", "tool_name": add.name}]
    )
    result = send(
        api,
        agent["id"],
        script(
            {"tool": add.name, "args": {"a": 1, "b": 2}},
            {"tool": "send_message", "args": {"message": "never"}},
        ),
    )
    assert [r["tool_return"] for r in of_type(result, "tool_return_message")] == ["3"]
    assert of_type(result, "assistant_message") == []  # the rule ended the turn at add


def test_bad_mcp_server_requests_get_clear_4xx(api: httpx.Client, sdk: Any) -> None:
    missing = api.post("/v1/mcp-servers", json={"server_name": name("x"), "config": {}})
    assert missing.status_code == 422
    assert "command" in missing.json()["detail"]
    bad_url = api.post(
        "/v1/mcp-servers",
        json={"server_name": name("x"), "config": {"mcp_server_type": "sse", "server_url": "x"}},
    )
    assert bad_url.status_code == 422
    slash = api.post("/v1/mcp-servers", json={"server_name": "a/b", "config": {"command": "true"}})
    assert slash.status_code == 422
    server = stdio_server(sdk)
    again = api.post(
        "/v1/mcp-servers", json={"server_name": server.server_name, "config": {"command": "x"}}
    )
    assert again.status_code == 409
    assert api.get("/v1/mcp-servers/mcp_server-nope").status_code == 404
    assert api.get(f"/v1/mcp-servers/{server.id}/tools/tool-nope").status_code == 404
    assert api.get("/v1/tools/mcp/servers/nope/tools").status_code == 404


# --- letta-client 0.1.x ----------------------------------------------------------------------


def test_legacy_sdk_adds_a_server_and_one_of_its_tools(legacy: Any, api: httpx.Client) -> None:
    types = legacy_sdk()
    server_name = name("legacy")
    config = stdio_config(env={"GREETING": SECRET_ENV})
    added = legacy.tools.add_mcp_server(
        request=types.StdioServerConfig(server_name=server_name, **config)
    )
    mine = [s for s in added if s.server_name == server_name]
    assert mine[0].command == config["command"]
    assert mine[0].env == {"PYTHONPATH": "<hidden>", "GREETING": "<hidden>"}
    assert server_name in legacy.tools.list_mcp_servers()
    offered = legacy.tools.list_mcp_tools_by_server(mcp_server_name=server_name)
    assert [t.name for t in offered] == TOOLS
    assert offered[0].input_schema["required"] == ["a", "b"]

    tool = legacy.tools.add_mcp_tool(mcp_server_name=server_name, mcp_tool_name="shout")
    assert tool.name in {"shout", f"{server_name}__shout"}
    assert tool.tool_type == "external_mcp"
    agent = legacy.agents.create(
        name=name("agent"),
        model="test/scripted",
        embedding="local/all-MiniLM-L6-v2",
        tool_ids=[tool.id],
    )
    reply = legacy.agents.messages.create(
        agent_id=agent.id,
        messages=[
            {
                "role": "user",
                "content": script(
                    {"tool": tool.name, "args": {"text": "loud"}},
                    {"tool": "send_message", "args": {"message": "ok"}},
                ),
            }
        ],
    )
    returned = [m for m in reply.messages if m.message_type == "tool_return_message"]
    assert returned[0].tool_return == "LOUD"

    left = legacy.tools.delete_mcp_server(mcp_server_name=server_name)
    assert server_name not in [s.server_name for s in left]
    assert api.get(f"/v1/tools/{tool.id}").status_code == 404


def test_legacy_routes_update_and_resync_a_server(
    api: httpx.Client, http_mcp: McpHttpServer
) -> None:
    server_name = name("legacy-http")
    added = api.put(
        "/v1/tools/mcp/servers",
        json={"server_name": server_name, "type": "streamable_http", "server_url": "http://x"},
    )
    assert added.status_code == 200, added.text
    unreachable = api.post(f"/v1/tools/mcp/servers/{server_name}/resync")
    assert unreachable.status_code == 424
    assert f"MCP server '{server_name}' could not be reached" in unreachable.json()["detail"]
    patched = api.patch(
        f"/v1/tools/mcp/servers/{server_name}", json={"server_url": http_mcp.url, "token": "t"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["server_url"] == http_mcp.url
    assert "token" not in patched.text
    assert "auth_token" not in patched.json()
    synced = api.post(f"/v1/tools/mcp/servers/{server_name}/resync")
    assert synced.status_code == 200, synced.text
    assert len(synced.json()["added"]) == len(TOOLS)
    listed = api.get("/v1/tools/mcp/servers").json()
    assert listed[server_name]["type"] == "streamable_http"
    assert api.delete(f"/v1/tools/mcp/servers/{server_name}").status_code == 200


def test_refresh_adds_new_tools_to_the_agent_it_names_and_restores_deleted_ones(
    sdk: Any, api: httpx.Client, http_mcp: McpHttpServer
) -> None:
    server_name = name("late")
    added = api.put(
        "/v1/tools/mcp/servers",
        json={"server_name": server_name, "type": "streamable_http", "server_url": http_mcp.url},
    )
    assert added.status_code == 200, added.text
    server_id = next(s["id"] for s in added.json() if s["server_name"] == server_name)
    assert sdk.mcp_servers.tools.list(server_id) == []  # 0.1.x adds tools one by one
    agent = make_agent(api, include_base_tools=False, tools=["send_message"])

    summary = sdk.mcp_servers.refresh(server_id, agent_id=agent["id"])
    assert len(summary["added"]) == len(TOOLS)
    attached = {t["name"] for t in api.get(f"/v1/agents/{agent['id']}/tools").json()}
    assert attached == {"send_message", *summary["added"]}

    shout = tool_named(sdk, server_id, "shout")
    edited = api.patch(f"/v1/tools/{shout.id}", json={"description": "mine now"})
    assert edited.status_code == 409
    assert "MCP server" in edited.json()["detail"]
    assert api.delete(f"/v1/tools/{shout.id}").status_code == 200
    assert sdk.mcp_servers.refresh(server_id)["added"] == [shout.name]
    assert sdk.mcp_servers.refresh(server_id)["added"] == []
