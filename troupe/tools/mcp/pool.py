"""The MCP sessions of this process, as the rest of troupe holds them.

The MCP SDK is loaded with the first session, not at start-up: it costs 0.4 s of CPU and
13 MB on a 2-core machine, and most servers never reach an MCP server. Until then the pool
is its limits alone; the sessions themselves are in sessions.py."""

from typing import TYPE_CHECKING, Any

from troupe.tools.mcp.endpoint import McpEndpoint
from troupe.tools.mcp.limits import McpLimits

if TYPE_CHECKING:
    import mcp.types as mcp_types

    from troupe.tools.mcp.sessions import McpSessions


class McpPool:
    def __init__(self, limits: McpLimits) -> None:
        self.limits = limits
        self._sessions: McpSessions | None = None

    async def list_tools(self, endpoint: McpEndpoint) -> "list[mcp_types.Tool]":
        return await self._live().list_tools(endpoint)

    async def call_tool(
        self, endpoint: McpEndpoint, name: str, arguments: dict[str, Any]
    ) -> "mcp_types.CallToolResult":
        return await self._live().call_tool(endpoint, name, arguments)

    def forget(self, server_id: str) -> None:
        """Close the server's session, if it has one: the next call connects anew."""
        if self._sessions is not None:
            self._sessions.forget(server_id)

    async def close(self) -> None:
        if self._sessions is not None:
            await self._sessions.close()

    def _live(self) -> "McpSessions":
        if self._sessions is None:
            from troupe.tools.mcp.sessions import McpSessions

            self._sessions = McpSessions(self.limits)
        return self._sessions


def result_text(result: "mcp_types.CallToolResult", max_chars: int = 100_000) -> str:
    """What a tool call returned, as the text the model reads (clipped like a user tool's)."""
    from troupe.tools.mcp import sessions  # loaded already: the call made a session

    return sessions.result_text(result, max_chars)
