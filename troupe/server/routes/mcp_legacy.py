"""/v1/tools/mcp/servers: MCP servers as letta-client 0.1.x manages them (by name)."""

import json

from fastapi import Response

from troupe.schemas.mcp_servers import (
    LegacyMcpServerAdd,
    LegacyMcpServerUpdate,
    McpServer,
    McpServerConfig,
    McpTool,
    McpToolSync,
)
from troupe.schemas.tools import Tool
from troupe.server.deps import DatabaseDep, McpPoolDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import mcp_servers as servers
from troupe.services import mcp_tools as tools

router = APIRouter(prefix="/v1/tools/mcp/servers", tags=["mcp-servers (0.1.x)"])


@router.get("", response_model=dict[str, McpServer])
async def list_mcp_servers(db: DatabaseDep) -> Response:
    """Every server, by name."""
    listed = await servers.list_servers(db)
    body = "{" + ",".join(_named(s) for s in listed) + "}"
    return Response(body, media_type="application/json")


@router.put("", response_model=list[McpServer])
async def add_mcp_server(db: DatabaseDep, body: LegacyMcpServerAdd) -> Response:
    """Add a server (its tools are added one by one); answers with every server."""
    await servers.add_server(db, body.server_name, body, url_default="sse")
    return json_response(await servers.list_servers(db), exclude_none=True)


@router.get("/{server_name}/tools", response_model=list[McpTool])
async def list_mcp_tools_by_server(db: DatabaseDep, pool: McpPoolDep, server_name: str) -> Response:
    """What the server offers now, asked live."""
    server_id = await servers.server_id_of(db, server_name)
    return json_response(await tools.offered_tools(db, pool, server_id), exclude_none=True)


@router.post("/{server_name}/resync", response_model=McpToolSync)
async def resync_mcp_server_tools(
    db: DatabaseDep, pool: McpPoolDep, server_name: str, agent_id: str | None = None
) -> Response:
    server_id = await servers.server_id_of(db, server_name)
    summary, _ = await tools.sync_tools(db, pool, server_id, prune=True, agent_id=agent_id)
    return json_response(summary)


@router.post("/{server_name}/{tool_name}", response_model=Tool)
async def add_mcp_tool(
    db: DatabaseDep, pool: McpPoolDep, server_name: str, tool_name: str
) -> Response:
    """Make one of the server's tools a troupe tool."""
    server_id = await servers.server_id_of(db, server_name)
    return json_response(await tools.register_tool(db, pool, server_id, tool_name))


@router.patch("/{server_name}", response_model=McpServer)
async def update_mcp_server(
    db: DatabaseDep, pool: McpPoolDep, server_name: str, body: LegacyMcpServerUpdate
) -> Response:
    server_id = await servers.server_id_of(db, server_name)
    config: McpServerConfig | None = body.stdio_config
    if config is not None and config.type is None and config.mcp_server_type is None:
        config = config.model_copy(update={"type": "stdio"})
    elif config is None and body.model_fields_set - {"server_name", "stdio_config"}:
        config = body
    updated = await servers.update_server(db, pool, server_id, name=body.server_name, config=config)
    return json_response(updated, exclude_none=True)


@router.delete("/{server_name}", response_model=list[McpServer])
async def delete_mcp_server(db: DatabaseDep, pool: McpPoolDep, server_name: str) -> Response:
    """Remove the server and its tools; answers with the servers left."""
    await servers.delete_server(db, pool, await servers.server_id_of(db, server_name))
    return json_response(await servers.list_servers(db), exclude_none=True)


def _named(server: McpServer) -> str:
    return json.dumps(server.server_name) + ":" + server.model_dump_json(exclude_none=True)
