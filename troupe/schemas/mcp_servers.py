"""MCP servers as both SDK lines send and read them: letta-client 1.x (`/v1/mcp-servers`,
a `config` object with `mcp_server_type`) and 0.1.x (`/v1/tools/mcp/servers`, a flat config
with `type`). Secrets (env values, auth tokens, header values) are accepted and never shown:
a view carries HIDDEN in their place, and an update that sends HIDDEN back keeps the value."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel

McpServerType = Literal["stdio", "sse", "streamable_http"]
HIDDEN = "<hidden>"
MAX_NAME = 255


class McpServerConfig(InputModel):
    """One server's connection settings; which fields count depends on its type."""

    mcp_server_type: McpServerType | None = None
    type: McpServerType | None = Field(default=None, description="0.1.x spelling of the type.")
    command: str | None = Field(default=None, max_length=4096)
    args: list[str] | None = None
    env: dict[str, str | None] | None = None
    server_url: str | None = Field(default=None, max_length=4096)
    auth_header: str | None = Field(default=None, max_length=255)
    auth_token: str | None = Field(default=None, max_length=16_384)
    token: str | None = Field(default=None, max_length=16_384, description="older auth_token")
    custom_headers: dict[str, str] | None = None


class McpServerCreate(InputModel):
    """letta-client 1.x: `client.mcp_servers.create(server_name=, config=)`."""

    server_name: str = Field(min_length=1, max_length=MAX_NAME)
    config: McpServerConfig


class McpServerUpdate(InputModel):
    """letta-client 1.x: `client.mcp_servers.update(id, config=, server_name=)`."""

    server_name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    config: McpServerConfig | None = None


class LegacyMcpServerAdd(McpServerConfig):
    """letta-client 0.1.x: `client.tools.add_mcp_server(request=StdioServerConfig(...))`."""

    server_name: str = Field(min_length=1, max_length=MAX_NAME)


class LegacyMcpServerUpdate(McpServerConfig):
    """Letta's 0.x PATCH of a server by name: flat fields, or a stdio server's `stdio_config`."""

    server_name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    stdio_config: McpServerConfig | None = None


class McpServer(OutputModel):
    """A server as both lines read it (1.x: `id`, `mcp_server_type`; 0.1.x: `type`)."""

    id: str
    server_name: str
    mcp_server_type: McpServerType
    type: McpServerType
    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None  # names only: every value is HIDDEN
    server_url: str | None = None
    auth_header: str | None = None
    custom_headers: dict[str, str] | None = None  # names only: every value is HIDDEN
    created_at: datetime | None = None
    updated_at: datetime | None = None


class McpTool(OutputModel):
    """A tool as the MCP server itself describes it (0.1.x's McpTool)."""

    name: str
    description: str | None = None
    inputSchema: dict[str, Any]
    annotations: dict[str, Any] | None = None


class McpToolRun(InputModel):
    """letta-client 1.x: `client.mcp_servers.tools.run(tool_id, mcp_server_id=, args=)`."""

    args: dict[str, Any] = Field(default_factory=dict)


class ToolExecutionResult(OutputModel):
    status: Literal["success", "error"]
    func_return: Any = None
    stdout: list[str] | None = None
    stderr: list[str] | None = None


class McpToolSync(OutputModel):
    """What a refresh (1.x) or resync (0.1.x) changed, by tool name."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # "name: why"
