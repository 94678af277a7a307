"""The MCP pool against real MCP servers written with the official SDK
(tests/support/mcp_server.py): over stdio in troupe's sandbox, streamable HTTP and SSE on
127.0.0.1. A server that hangs, dies or talks nonsense fails that call with a clear error
and is started afresh by the next call; it never holds up calls to another server."""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.mcp_test_servers import McpHttpServer, running_http_mcp, stdio_config
from troupe.tools.mcp.endpoint import McpEndpoint
from troupe.tools.mcp.limits import McpLimits, McpUnavailable
from troupe.tools.mcp.pool import McpPool, result_text
from troupe.tools.sandbox import SandboxLimits

IS_ROOT = os.geteuid() == 0
LIMITS = McpLimits(call_timeout_s=3, connect_timeout_s=15)


def stdio_endpoint(name: str = "stdio", mode: str = "stdio", **env: str) -> McpEndpoint:
    config = stdio_config(mode, env)
    return McpEndpoint(
        server_id=f"mcp_server-{name}",
        name=name,
        transport="stdio",
        command=config["command"],
        args=tuple(config["args"]),
        env=tuple(config["env"].items()),
    )


@pytest.fixture
async def pool() -> AsyncIterator[McpPool]:
    pool = McpPool(LIMITS)
    yield pool
    await pool.close()


@pytest.fixture
def http_server() -> Iterator[McpHttpServer]:
    with running_http_mcp() as server:
        yield server


async def text_of(pool: McpPool, endpoint: McpEndpoint, tool: str, **arguments: Any) -> str:
    result = await pool.call_tool(endpoint, tool, arguments)
    assert not result.isError, result_text(result)
    return result_text(result)


async def test_stdio_server_lists_and_runs_its_tools(pool: McpPool) -> None:
    endpoint = stdio_endpoint()
    names = [t.name for t in await pool.list_tools(endpoint)]
    assert names == [
        "add",
        "shout",
        "environment",
        "fail",
        "hang",
        "die",
        "garbage",
        "fill_disk",
        "flood",
    ]
    assert await text_of(pool, endpoint, "add", a=2, b=40) == "42"
    flooded = result_text(await pool.call_tool(endpoint, "flood", {"chars": 5000}), 1000)
    assert flooded == "x" * 1000 + "\n… (cut: longer than 1000 characters)"
    failed = await pool.call_tool(endpoint, "fail", {"reason": "no such file"})
    assert failed.isError
    assert "no such file" in result_text(failed)


async def test_stdio_server_gets_only_the_environment_its_config_names(pool: McpPool) -> None:
    os.environ["OPENAI_API_KEY"] = "sk-server-secret"  # a secret of the server process
    try:
        seen = json.loads(await text_of(pool, stdio_endpoint(GREETING="hello"), "environment"))
    finally:
        del os.environ["OPENAI_API_KEY"]
    assert seen["greeting"] == "hello"
    assert "OPENAI_API_KEY" not in seen["names"]
    assert not [n for n in seen["names"] if n.startswith("TROUPE_")]
    assert set(seen["names"]) <= {
        "GREETING", "HOME", "LANG", "PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "TMPDIR",
        "SHELL", "TERM", "USER", "LOGNAME",
    }  # fmt: skip
    assert Path(seen["cwd"]).name.startswith("troupe-mcp-")
    if IS_ROOT:
        assert seen["uid"] != 0  # a user id of its own, not the server's


async def test_closing_the_pool_ends_the_stdio_server_and_its_folder(pool: McpPool) -> None:
    seen = json.loads(await text_of(pool, stdio_endpoint(), "environment"))
    assert psutil.pid_exists(seen["pid"])
    await pool.close()
    assert not psutil.pid_exists(seen["pid"]) or psutil.Process(seen["pid"]).status() == "zombie"
    assert not await asyncio.to_thread(os.path.exists, seen["cwd"])


@pytest.mark.parametrize(
    ("tool", "says"),
    [
        ("hang", "did not answer within 3 s while calling 'hang'"),
        ("die", "while calling 'die'"),
        ("garbage", "did not answer within 3 s while calling 'garbage'"),
    ],
)
async def test_a_bad_stdio_call_fails_clearly_and_the_next_call_reconnects(
    pool: McpPool, tool: str, says: str
) -> None:
    endpoint = stdio_endpoint()
    before = json.loads(await text_of(pool, endpoint, "environment"))["pid"]
    with pytest.raises(McpUnavailable) as failed:
        await pool.call_tool(endpoint, tool, {})
    assert "MCP server 'stdio'" in str(failed.value)
    assert says in str(failed.value)
    after = json.loads(await text_of(pool, endpoint, "environment"))["pid"]
    assert after != before  # a fresh server process
    assert await text_of(pool, endpoint, "shout", text="back") == "BACK"


async def test_a_stdio_server_filling_the_disk_is_stopped_and_started_afresh() -> None:
    pool = McpPool(McpLimits(call_timeout_s=30, sandbox=SandboxLimits(max_disk_mb=40)))
    try:
        endpoint = stdio_endpoint()
        before = json.loads(await text_of(pool, endpoint, "environment"))
        with pytest.raises(McpUnavailable) as stopped:
            await pool.call_tool(endpoint, "fill_disk", {"mb": 400})
        assert "MCP server 'stdio' was stopped for filling the disk" in str(stopped.value)
        assert "fell by more than 40 MB" in str(stopped.value)
        assert not await asyncio.to_thread(os.path.exists, before["cwd"])  # its files are gone
        after = json.loads(await text_of(pool, endpoint, "environment"))
        assert after["pid"] != before["pid"]
    finally:
        await pool.close()


async def test_a_server_that_never_answers_fails_within_the_connect_timeout() -> None:
    pool = McpPool(McpLimits(call_timeout_s=3, connect_timeout_s=2))
    try:
        with pytest.raises(McpUnavailable, match="did not start and answer within 2 s"):
            await pool.list_tools(stdio_endpoint("mute", "mute"))
    finally:
        await pool.close()


async def test_a_command_that_does_not_exist_fails_clearly(pool: McpPool) -> None:
    endpoint = McpEndpoint("mcp_server-x", "missing", "stdio", command="/nonexistent/server")
    with pytest.raises(McpUnavailable, match="could not start '/nonexistent/server'"):
        await pool.list_tools(endpoint)


async def test_a_hung_server_holds_up_no_call_to_another_server(
    pool: McpPool, http_server: McpHttpServer
) -> None:
    hung = stdio_endpoint("hung")
    healthy = McpEndpoint("mcp_server-http", "http", "streamable_http", url=http_server.url)
    assert await text_of(pool, healthy, "shout", text="warm") == "WARM"
    hanging = [asyncio.create_task(pool.call_tool(hung, "hang", {})) for _ in range(5)]
    answers = await asyncio.gather(*(text_of(pool, healthy, "add", a=i, b=1) for i in range(20)))
    assert answers == [str(i + 1) for i in range(20)]
    assert not any(task.done() for task in hanging)  # still waiting, bounded by the timeout
    outcomes = await asyncio.gather(*hanging, return_exceptions=True)
    assert all(isinstance(o, McpUnavailable) for o in outcomes)


async def test_streamable_http_server_that_dies_is_reached_again_once_it_is_back(
    pool: McpPool, http_server: McpHttpServer
) -> None:
    endpoint = McpEndpoint("mcp_server-http", "http", "streamable_http", url=http_server.url)
    assert await text_of(pool, endpoint, "shout", text="one") == "ONE"
    http_server.stop()
    with pytest.raises(McpUnavailable, match="MCP server 'http'"):
        await pool.call_tool(endpoint, "shout", {"text": "two"})
    http_server.start()
    assert await text_of(pool, endpoint, "shout", text="three") == "THREE"


async def test_streamable_http_tool_that_hangs_times_out_and_the_server_serves_on(
    pool: McpPool, http_server: McpHttpServer
) -> None:
    endpoint = McpEndpoint("mcp_server-http", "http", "streamable_http", url=http_server.url)
    with pytest.raises(McpUnavailable, match="did not answer within 3 s"):
        await pool.call_tool(endpoint, "hang", {})
    assert await text_of(pool, endpoint, "add", a=1, b=2) == "3"


async def test_sse_server_runs_its_tools(pool: McpPool) -> None:
    with running_http_mcp("sse") as server:
        endpoint = McpEndpoint("mcp_server-sse", "sse", "sse", url=server.url)
        assert await text_of(pool, endpoint, "shout", text="over sse") == "OVER SSE"
