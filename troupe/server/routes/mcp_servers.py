"""/v1/mcp-servers: MCP servers as letta-client 1.x manages them (by id)."""

from fastapi import Response

from troupe.schemas.mcp_servers import (
    McpServer,
    McpServerCreate,
    McpServerUpdate,
    McpToolRun,
    McpToolSync,
)
from troupe.schemas.tools import Tool, ToolExecutionResult
from troupe.server.deps import DatabaseDep, McpPoolDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import mcp_servers as servers
from troupe.services import mcp_tools as tools

router = APIRouter(prefix="/v1/mcp-servers", tags=["mcp-servers"])


@router.post("", response_model=McpServer)
async def create_mcp_server(db: DatabaseDep, pool: McpPoolDep, body: McpServerCreate) -> Response:
    """Add a server; the tools it offers become troupe tools (attach them by id)."""
    return json_response(await servers.create_server(db, pool, body), exclude_none=True)


@router.get("", response_model=list[McpServer])
async def list_mcp_servers(db: DatabaseDep) -> Response:
    return json_response(await servers.list_servers(db), exclude_none=True)


@router.get("/{server_id}", response_model=McpServer)
async def retrieve_mcp_server(db: DatabaseDep, server_id: str) -> Response:
    return json_response(await servers.get_server(db, server_id), exclude_none=True)


@router.patch("/{server_id}", response_model=McpServer)
async def update_mcp_server(
    db: DatabaseDep, pool: McpPoolDep, server_id: str, body: McpServerUpdate
) -> Response:
    updated = await servers.update_server(
        db, pool, server_id, name=body.server_name, config=body.config
    )
    return json_response(updated, exclude_none=True)


@router.delete("/{server_id}", status_code=204)
async def delete_mcp_server(db: DatabaseDep, pool: McpPoolDep, server_id: str) -> Response:
    await servers.delete_server(db, pool, server_id)
    return Response(status_code=204)


@router.patch("/{server_id}/refresh", response_model=McpToolSync)
async def refresh_mcp_server_tools(
    db: DatabaseDep, pool: McpPoolDep, server_id: str, agent_id: str | None = None
) -> Response:
    """Match the server's troupe tools to what it offers now: add, update, delete."""
    summary, _ = await tools.sync_tools(db, pool, server_id, prune=True, agent_id=agent_id)
    return json_response(summary)


@router.get("/{server_id}/tools", response_model=list[Tool])
async def list_mcp_server_tools(db: DatabaseDep, pool: McpPoolDep, server_id: str) -> Response:
    return json_response(await tools.registered_tools(db, pool, server_id))


@router.get("/{server_id}/tools/{tool_id}", response_model=Tool)
async def retrieve_mcp_server_tool(db: DatabaseDep, server_id: str, tool_id: str) -> Response:
    return json_response(await tools.registered_tool(db, server_id, tool_id))


@router.post("/{server_id}/tools/{tool_id}/run", response_model=ToolExecutionResult)
async def run_mcp_server_tool(
    db: DatabaseDep,
    pool: McpPoolDep,
    server_id: str,
    tool_id: str,
    body: McpToolRun | None = None,
) -> Response:
    arguments = body.args if body is not None else {}
    return json_response(await tools.run_tool(db, pool, server_id, tool_id, arguments))
