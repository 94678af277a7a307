"""The MCP servers of an Agent File and the MCP tools that name them. Written without secrets
(no token, headers or env, as Letta writes them). Read back security-first: an HTTP, SSE or
streamable HTTP server is created with its URL only (add its credentials afterwards); a stdio
server is not created from a file, since that would let a file choose a command for this
server to run, unless the import request opts in (`allow_stdio_mcp_servers`); its tools are
then left out, like the tools of servers this server cannot reach."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.agent_file import AgentFile, McpServerSchema, ToolSchema
from troupe.schemas.tools import MCP_TOOL_TYPE
from troupe.services.agent_file_tools import DEFAULT_RETURN_CHAR_LIMIT
from troupe.services.mcp_tools import free_tool_name
from troupe.store import mcp_servers as mcp_store
from troupe.store.mcp_tables import McpServerRow
from troupe.store.tables import ToolRow

FileIdOf = Callable[[str, str], str]
URL_TYPES = ("sse", "streamable_http", "http")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class McpLink:
    server: McpServerRow
    tool_name: str  # the tool's name on its MCP server


async def load_mcp_links(session: AsyncSession, tools: Sequence[ToolRow]) -> dict[str, McpLink]:
    """The MCP server (and name there) of each of the MCP tools, by tool id."""
    links: dict[str, McpLink] = {}
    for tool in tools:
        if tool.tool_type == MCP_TOOL_TYPE:
            found = await mcp_store.server_of_tool(session, tool.id)
            if found is not None:
                links[tool.id] = McpLink(*found)
    return links


def mcp_section(links: dict[str, McpLink], of: FileIdOf) -> list[McpServerSchema]:
    """Each server once: its type, name and URL, or a stdio server's command and args
    (never its env, token or headers)."""
    servers = {link.server.id: link.server for link in links.values()}
    return [
        McpServerSchema(
            id=of("mcp_server", row.id),
            server_type=row.server_type,
            server_name=row.name,
            server_url=row.server_url,
            stdio_config={"command": row.command, "args": list(row.args or [])}
            if row.server_type == "stdio"
            else None,
        )
        for row in servers.values()
    ]


def mcp_tool_metadata(link: McpLink, of: FileIdOf) -> dict[str, Any]:
    return {
        "mcp": {
            "server_name": link.server.name,
            "server_id": of("mcp_server", link.server.id),
            "tool_name": link.tool_name,
        }
    }


@dataclass
class McpPlan:
    """Servers to create (by file id) and the MCP tools on them (by the tool's file id);
    the names of the MCP tools left out."""

    servers: dict[str, McpServerRow] = field(default_factory=dict)
    tools: dict[str, tuple[ToolRow, str, str]] = field(default_factory=dict)  # row, server, name
    left_out: list[str] = field(default_factory=list)

    def names(self) -> dict[str, str]:
        return {file_id: row.name for file_id, (row, _, _) in self.tools.items()}


def _server_row(server: McpServerSchema, *, allow_stdio: bool) -> McpServerRow | None:
    """The server's row, or None for a server a file may not create (stdio, unless the
    request opted in) or that does not say where it is."""
    if server.server_type == "stdio":
        return _stdio_row(server) if allow_stdio else None
    url = server.server_url or ""
    if server.server_type not in URL_TYPES or not url.startswith(("http://", "https://")):
        return None
    kind = "streamable_http" if server.server_type == "http" else server.server_type
    return McpServerRow(
        id=new_id("mcp_server"), name=server.server_name, server_type=kind, server_url=url, args=[]
    )


def _stdio_row(server: McpServerSchema) -> McpServerRow | None:
    """A stdio server with the file's command and args and no env (run, like any stdio
    server, in the sandbox)."""
    config = server.stdio_config or {}
    command, args = config.get("command"), config.get("args") or []
    if not isinstance(command, str) or not command.strip() or not isinstance(args, list):
        return None
    return McpServerRow(
        id=new_id("mcp_server"),
        name=server.server_name,
        server_type="stdio",
        command=command,
        args=[str(a) for a in args],
        env=None,
    )


def _server_of(tool: ToolSchema, servers: list[McpServerSchema]) -> McpServerSchema | None:
    mcp = (tool.metadata_ or {}).get("mcp")
    if not isinstance(mcp, dict):
        return None
    for server in servers:
        if mcp.get("server_id") == server.id:
            return server
    return next((s for s in servers if s.server_name == mcp.get("server_name")), None)


def plan_mcp(agent_file: AgentFile, *, allow_stdio: bool = False) -> McpPlan:
    """Rows for the file's URL servers (and stdio ones, when `allow_stdio`) and their tools
    (schemas from the file, checked)."""
    ids = [s.id for s in agent_file.mcp_servers]
    if len(set(ids)) != len(ids):
        raise InvalidInput("agent file: two MCP servers share an id")
    plan = McpPlan()
    for server in agent_file.mcp_servers:
        row = _server_row(server, allow_stdio=allow_stdio)
        if row is not None:
            plan.servers[server.id] = row
    for tool in agent_file.tools:
        if tool.tool_type != MCP_TOOL_TYPE:
            continue
        owner = _server_of(tool, agent_file.mcp_servers)
        name = tool.name or ""
        if owner is None or owner.id not in plan.servers or not TOOL_NAME.match(name):
            plan.left_out.append(name)
            continue
        mcp = (tool.metadata_ or {}).get("mcp") or {}
        remote = mcp.get("tool_name")
        plan.tools[tool.id] = (
            _tool_row(tool, name),
            owner.id,
            remote if isinstance(remote, str) else name,
        )
    return plan


def _tool_row(tool: ToolSchema, name: str) -> ToolRow:
    schema = dict(tool.json_schema or {})
    parameters = schema.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise InvalidInput(f"agent file: MCP tool {name!r} has parameters that are not an object")
    return ToolRow(
        id=new_id("tool"),
        name=name,
        description=tool.description or "",
        tags=tool.tags or [],
        source_code=None,
        source_type="mcp",
        json_schema={**schema, "name": name, "parameters": parameters},
        tool_type=MCP_TOOL_TYPE,
        return_char_limit=DEFAULT_RETURN_CHAR_LIMIT,
    )


async def _free(session: AsyncSession, name: str, exists: Callable[[str], Any]) -> str:
    candidate, count = name, 0
    while await exists(candidate) is not None:
        count += 1
        candidate = f"{name}_({count})"
    return candidate


async def store_mcp(session: AsyncSession, plan: McpPlan) -> dict[str, ToolRow]:
    """Create the servers (a name taken here gets `_(n)`) and their tools (a tool name taken
    here gets `<server>__<name>`, or the tool is left out); file tool id -> row."""
    for server in plan.servers.values():
        server.name = await _free(
            session, server.name, lambda n: mcp_store.server_by_name(session, n)
        )
        session.add(server)
    await session.flush()
    rows: dict[str, ToolRow] = {}
    for file_id, (row, server_id, remote) in plan.tools.items():
        server = plan.servers[server_id]
        name = await free_tool_name(session, server, row.name)
        if name is None:
            plan.left_out.append(row.name)
            continue
        row.name = name
        row.json_schema = {**row.json_schema, "name": row.name}
        row.metadata_ = {
            "mcp": {"server_name": server.name, "server_id": server.id, "tool_name": remote}
        }
        session.add(row)
        await session.flush()
        await mcp_store.link_tool(session, row.id, server.id, remote)
        rows[file_id] = row
    return rows
