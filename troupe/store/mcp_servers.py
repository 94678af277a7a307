"""MCP server rows, and the links from troupe tools to the MCP tools they call."""

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.lookup import row_or_not_found
from troupe.store.mcp_tables import McpServerRow, McpToolRow
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import ToolRow


async def get_server(session: AsyncSession, server_id: str) -> McpServerRow:
    return await row_or_not_found(session, McpServerRow, server_id, "MCP server")


async def server_by_name(session: AsyncSession, name: str) -> McpServerRow | None:
    stmt = select(McpServerRow).where(McpServerRow.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def named_server(session: AsyncSession, name: str) -> McpServerRow:
    row = await server_by_name(session, name)
    if row is None:
        raise NotFound(f"no MCP server is named {name!r}; GET /v1/tools/mcp/servers lists them")
    return row


async def list_servers(session: AsyncSession, page: Page | None = None) -> list[McpServerRow]:
    page = page or Page(limit=10_000, order="asc")
    return await fetch_page(session, select(McpServerRow), by_creation(McpServerRow), page)


async def delete_server(session: AsyncSession, server_id: str) -> None:
    """The server and every troupe tool that calls it (their attachments go by cascade)."""
    linked = select(McpToolRow.tool_id).where(McpToolRow.mcp_server_id == server_id)
    await session.execute(delete(ToolRow).where(ToolRow.id.in_(linked)))
    await session.execute(delete(McpServerRow).where(McpServerRow.id == server_id))


async def tools_of_server(session: AsyncSession, server_id: str) -> list[tuple[ToolRow, str]]:
    """The server's troupe tools with each one's name on the MCP server, oldest first."""
    stmt = (
        select(ToolRow, McpToolRow.mcp_tool_name)
        .join(McpToolRow, McpToolRow.tool_id == ToolRow.id)
        .where(McpToolRow.mcp_server_id == server_id)
        .order_by(ToolRow.created_at, ToolRow.id)
    )
    return [(tool, name) for tool, name in (await session.execute(stmt)).all()]


async def server_of_tool(session: AsyncSession, tool_id: str) -> tuple[McpServerRow, str] | None:
    """The server an MCP tool calls, and the tool's name there; None for other tools."""
    stmt = (
        select(McpServerRow, McpToolRow.mcp_tool_name)
        .join(McpToolRow, McpToolRow.mcp_server_id == McpServerRow.id)
        .where(McpToolRow.tool_id == tool_id)
    )
    found = (await session.execute(stmt)).first()
    return None if found is None else (found[0], found[1])


async def link_tool(session: AsyncSession, tool_id: str, server_id: str, name: str) -> None:
    session.add(McpToolRow(tool_id=tool_id, mcp_server_id=server_id, mcp_tool_name=name))
    await session.flush()


async def delete_tools(session: AsyncSession, tool_ids: list[str]) -> None:
    if tool_ids:
        await session.execute(delete(ToolRow).where(ToolRow.id.in_(tool_ids)))
