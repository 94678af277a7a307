"""MCP servers: add, list, change and remove them (the tools they bring are in
services/mcp_tools.py). Routes of both SDK lines share these functions; a server is found
by id (1.x) or by name (0.1.x)."""

import contextlib

from troupe.errors import Conflict, DependencyFailed
from troupe.ids import new_id
from troupe.schemas.mcp_servers import McpServer, McpServerConfig, McpServerCreate, McpServerType
from troupe.services.mcp_config import apply_config, check_name, server_type, server_view
from troupe.services.mcp_tools import sync_tools
from troupe.store import Database
from troupe.store import mcp_servers as mcp_store
from troupe.store.mcp_tables import McpServerRow
from troupe.tools.mcp.pool import McpPool


async def add_server(
    db: Database, name: str, config: McpServerConfig, *, url_default: McpServerType
) -> McpServerRow:
    """Store a new server; 409 if the name is taken."""
    check_name(name)
    kind = server_type(config, url_default)
    row = McpServerRow(id=new_id("mcp_server"), name=name, args=[])
    apply_config(row, config, kind)
    async with db.write() as session:
        if await mcp_store.server_by_name(session, name) is not None:
            raise Conflict(f"an MCP server named {name!r} already exists; pick another name")
        session.add(row)
        await session.flush()
    return row


async def create_server(db: Database, pool: McpPool, spec: McpServerCreate) -> McpServer:
    """1.x: store the server and make the tools it offers troupe tools. A server that cannot
    be reached yet is stored all the same (its tools come with a refresh)."""
    row = await add_server(db, spec.server_name, spec.config, url_default="streamable_http")
    with contextlib.suppress(DependencyFailed):
        await sync_tools(db, pool, row.id)
    return server_view(row)


async def list_servers(db: Database) -> list[McpServer]:
    async with db.read() as session:
        return [server_view(r) for r in await mcp_store.list_servers(session)]


async def get_server(db: Database, server_id: str) -> McpServer:
    async with db.read() as session:
        return server_view(await mcp_store.get_server(session, server_id))


async def server_id_of(db: Database, name: str) -> str:
    async with db.read() as session:
        return (await mcp_store.named_server(session, name)).id


async def update_server(
    db: Database,
    pool: McpPool,
    server_id: str,
    *,
    name: str | None,
    config: McpServerConfig | None,
) -> McpServer:
    async with db.write() as session:
        row = await mcp_store.get_server(session, server_id)
        if name is not None and name != row.name:
            check_name(name)
            if await mcp_store.server_by_name(session, name) is not None:
                raise Conflict(f"an MCP server named {name!r} already exists; pick another name")
            row.name = name
        if config is not None:
            kind = config.mcp_server_type or config.type or row.server_type
            apply_config(row, config, kind)  # type: ignore[arg-type]  # stored from the Literal
        await session.flush()
        view = server_view(row)
    pool.forget(server_id)  # the next call connects with the new settings
    return view


async def delete_server(db: Database, pool: McpPool, server_id: str) -> None:
    """The server, the tools it brought, and their attachments to agents."""
    async with db.write() as session:
        await mcp_store.get_server(session, server_id)
        await mcp_store.delete_server(session, server_id)
    pool.forget(server_id)
