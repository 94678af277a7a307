"""Runs an MCP tool for the agent loop: finds the server the tool belongs to and calls the
tool through the pool. Whatever the server does, the model gets a tool result."""

from typing import Any

from troupe.store import Database
from troupe.store import mcp_servers as mcp_store
from troupe.store.mcp_tables import McpServerRow
from troupe.store.tables import ToolRow
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.mcp.endpoint import endpoint_of
from troupe.tools.mcp.limits import McpToolError, McpUnavailable
from troupe.tools.mcp.pool import McpPool, result_text


class McpToolRunner:
    def __init__(self, db: Database, pool: McpPool) -> None:
        self.db = db
        self.pool = pool

    async def run(
        self, caller: ToolCaller, tool: ToolRow, arguments: dict[str, Any]
    ) -> ToolOutcome:
        async with self.db.read() as session:
            found = await mcp_store.server_of_tool(session, tool.id)
        if found is None:
            return ToolOutcome.error(
                f"{tool.name!r} belongs to an MCP server that no longer exists; detach it"
            )
        server, name = found
        return await call_mcp_tool(self.pool, server, name, arguments)


async def call_mcp_tool(
    pool: McpPool, server: McpServerRow, name: str, arguments: dict[str, Any]
) -> ToolOutcome:
    """Call one tool of a stored server; every failure is an error outcome, never raised."""
    try:
        result = await pool.call_tool(endpoint_of(server), name, arguments)
    except (McpUnavailable, McpToolError) as exc:
        return ToolOutcome.error(str(exc))
    text = result_text(result, pool.limits.sandbox.max_output_chars)
    if result.isError:
        return ToolOutcome.error(text or f"the MCP tool {name!r} failed without saying why")
    return ToolOutcome.ok(text)
