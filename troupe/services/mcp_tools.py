"""The tools of MCP servers: what a server offers now (asked live), which of them are troupe
tools (stored, attachable to agents by id like any tool), keeping the two in step, and
running one directly."""

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict, DependencyFailed, NotFound
from troupe.ids import new_id
from troupe.schemas.common import find_unstorable
from troupe.schemas.mcp_servers import McpTool, McpToolSync
from troupe.schemas.tools import DEFAULT_RETURN_CHAR_LIMIT, MCP_TOOL_TYPE, Tool, ToolExecutionResult
from troupe.services.views import tool_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import mcp_servers as mcp_store
from troupe.store import tools as tool_store
from troupe.store.mcp_tables import McpServerRow
from troupe.store.tables import ToolRow
from troupe.tools.mcp.endpoint import endpoint_of
from troupe.tools.mcp.limits import McpToolError, McpUnavailable
from troupe.tools.mcp.pool import McpPool
from troupe.tools.mcp.runner import call_mcp_tool

if TYPE_CHECKING:  # the SDK itself is loaded with the first session (see tools/mcp/pool.py)
    import mcp.types as mcp_types

# What model providers accept as a function name.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def offered_tools(db: Database, pool: McpPool, server_id: str) -> list[McpTool]:
    """The server's tools as it describes them now (0.1.x: list_mcp_tools_by_server)."""
    return [
        McpTool(
            name=t.name,
            description=t.description,
            inputSchema=t.inputSchema,
            annotations=t.annotations.model_dump(exclude_none=True) if t.annotations else None,
        )
        for t in await _ask_tools(db, pool, server_id)
    ]


async def registered_tools(db: Database, pool: McpPool, server_id: str) -> list[Tool]:
    """The server's troupe tools. With none stored, the server is asked whether it can be
    reached, so that an unreachable one is a 424 (as refresh answers), not an empty list."""
    async with db.read() as session:
        await mcp_store.get_server(session, server_id)
        tools = [tool_view(row) for row, _ in await mcp_store.tools_of_server(session, server_id)]
    if not tools:
        await _ask_tools(db, pool, server_id)
    return tools


async def registered_tool(db: Database, server_id: str, tool_id: str) -> Tool:
    async with db.read() as session:
        return tool_view(await _tool_of_server(session, server_id, tool_id))


async def run_tool(
    db: Database, pool: McpPool, server_id: str, tool_id: str, arguments: dict[str, Any]
) -> ToolExecutionResult:
    """Call one of the server's tools now; what the server did is in the result's status."""
    async with db.read() as session:
        await _tool_of_server(session, server_id, tool_id)
        found = await mcp_store.server_of_tool(session, tool_id)
    assert found is not None  # checked just above
    server, name = found
    outcome = await call_mcp_tool(pool, server, name, arguments)
    return ToolExecutionResult(status=outcome.status, func_return=outcome.text)


async def sync_tools(
    db: Database,
    pool: McpPool,
    server_id: str,
    *,
    only: str | None = None,
    prune: bool = False,
    agent_id: str | None = None,
) -> tuple[McpToolSync, dict[str, ToolRow]]:
    """Make the server's troupe tools match what it offers: add new ones (all, or `only` one),
    update changed schemas, and with `prune` delete those it no longer offers. Tools added
    are attached to `agent_id` when one is given."""
    if agent_id is not None:
        async with db.read() as session:
            await agent_store.get_agent_row(session, agent_id)
    offered = await _ask_tools(db, pool, server_id)
    if only is not None:
        offered = [t for t in offered if t.name == only]
        if not offered:
            raise NotFound(f"the MCP server offers no tool named {only!r}")
    summary = McpToolSync()
    rows: dict[str, ToolRow] = {}
    async with db.write() as session:
        server = await mcp_store.get_server(session, server_id)
        stored = {name: row for row, name in await mcp_store.tools_of_server(session, server_id)}
        for tool in offered:
            row = await _keep(session, server, tool, stored.get(tool.name), summary)
            if row is not None:
                rows[tool.name] = row
        if prune:
            gone = [row for name, row in stored.items() if name not in {t.name for t in offered}]
            await mcp_store.delete_tools(session, [row.id for row in gone])
            summary.deleted = [row.name for row in gone]
        if agent_id is not None and summary.added:
            position = await attachment_store.next_tool_position(session, agent_id)
            added = [row.id for row in rows.values() if row.name in summary.added]
            await attachment_store.attach_tools(session, agent_id, added, start=position)
    return summary, rows


async def register_tool(db: Database, pool: McpPool, server_id: str, tool_name: str) -> Tool:
    """0.1.x add_mcp_tool: make one of the server's tools a troupe tool (or refresh it)."""
    summary, rows = await sync_tools(db, pool, server_id, only=tool_name)
    if tool_name not in rows:
        raise Conflict(f"cannot add MCP tool {summary.skipped[0]}")
    return tool_view(rows[tool_name])


async def _keep(
    session: AsyncSession,
    server: McpServerRow,
    tool: "mcp_types.Tool",
    row: ToolRow | None,
    summary: McpToolSync,
) -> ToolRow | None:
    """Store or update one offered tool; None (and a line in `skipped`) when it cannot be."""
    problem = _unusable(tool)
    if problem is not None:
        summary.skipped.append(f"{tool.name}: {problem}")
        return None
    description = tool.description or ""
    schema = {"name": tool.name, "description": description, "parameters": tool.inputSchema}
    if row is not None:
        schema["name"] = row.name  # the name it was stored under (perhaps qualified)
        if row.json_schema != schema or row.description != description:
            row.json_schema, row.description = schema, description
            summary.updated.append(row.name)
        return row
    tool_name = await free_tool_name(session, server, tool.name)
    if tool_name is None:
        summary.skipped.append(f"{tool.name}: tools named so already exist; rename one")
        return None
    schema["name"] = tool_name
    row = ToolRow(
        id=new_id("tool"),
        name=tool_name,
        description=description,
        tags=[f"mcp:{server.name}"],
        source_code=None,
        source_type="mcp",
        json_schema=schema,
        tool_type=MCP_TOOL_TYPE,
        return_char_limit=DEFAULT_RETURN_CHAR_LIMIT,
        metadata_={
            "mcp": {"server_name": server.name, "server_id": server.id, "tool_name": tool.name}
        },
    )
    session.add(row)
    await session.flush()
    await mcp_store.link_tool(session, row.id, server.id, tool.name)
    summary.added.append(tool_name)
    return row


async def free_tool_name(session: AsyncSession, server: McpServerRow, name: str) -> str | None:
    """The tool's own name, or (taken by another tool) `<server>__<name>`: two servers may
    offer tools of one name, and a troupe tool's name is unique."""
    qualified = f"{re.sub(r'[^A-Za-z0-9_-]', '_', server.name)[:30]}__{name}"[:64]
    for candidate in (name, qualified):
        if await tool_store.tool_by_name(session, candidate) is None:
            return candidate
    return None


def _unusable(tool: "mcp_types.Tool") -> str | None:
    if not TOOL_NAME.match(tool.name):
        return "the name must be 1-64 letters, digits, '_' or '-' for models to call it"
    if tool.inputSchema.get("type", "object") != "object":
        return "its input schema is not an object"
    if bad := find_unstorable([tool.description, tool.inputSchema]):
        return f"its description or schema holds {bad}"
    return None


async def _ask_tools(db: Database, pool: McpPool, server_id: str) -> "list[mcp_types.Tool]":
    async with db.read() as session:
        server = await mcp_store.get_server(session, server_id)
    try:
        return await pool.list_tools(endpoint_of(server))
    except (McpUnavailable, McpToolError) as exc:
        raise DependencyFailed(str(exc)) from None


async def _tool_of_server(session: AsyncSession, server_id: str, tool_id: str) -> ToolRow:
    await mcp_store.get_server(session, server_id)
    found = await mcp_store.server_of_tool(session, tool_id)
    if found is None or found[0].id != server_id:
        raise NotFound(f"MCP server {server_id!r} has no tool {tool_id!r}")
    return await tool_store.get_tool(session, tool_id)
