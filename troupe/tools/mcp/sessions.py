"""The live MCP sessions of this process, one per server, shared by every agent (through
pool.py, which loads this module and the MCP SDK with the first session).

A call that times out, or finds the server gone or talking nonsense, fails with a clear
error and drops that server's session, so the next call starts (or reaches) it afresh.
Nothing here is held while waiting on a server: a hung server costs only the calls made to
it, each bounded by the limits, never another server's calls or the event loop."""

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

import mcp.types as mcp_types
from mcp import ClientSession
from mcp.shared.exceptions import McpError

from troupe.tools.mcp.connection import McpConnection
from troupe.tools.mcp.endpoint import McpEndpoint
from troupe.tools.mcp.limits import McpLimits, McpToolError, McpUnavailable

# JSON-RPC errors that mean the session, not the request, is broken.
BROKEN_SESSION_CODES = {mcp_types.CONNECTION_CLOSED, 408}


class McpSessions:
    def __init__(self, limits: McpLimits) -> None:
        self.limits = limits
        self._connections: dict[str, McpConnection] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def list_tools(self, endpoint: McpEndpoint) -> list[mcp_types.Tool]:
        async def listing(session: ClientSession) -> list[mcp_types.Tool]:
            tools: list[mcp_types.Tool] = []
            cursor: str | None = None
            while True:
                params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await session.list_tools(params=params)
                tools.extend(page.tools)
                cursor = page.nextCursor
                if not cursor:
                    return tools

        return await self._request(endpoint, "listing its tools", listing)

    async def call_tool(
        self, endpoint: McpEndpoint, name: str, arguments: dict[str, Any]
    ) -> mcp_types.CallToolResult:
        timeout = timedelta(seconds=self.limits.call_timeout_s)

        async def call(session: ClientSession) -> mcp_types.CallToolResult:
            return await session.call_tool(name, arguments, read_timeout_seconds=timeout)

        return await self._request(endpoint, f"calling {name!r}", call)

    def forget(self, server_id: str) -> None:
        """Close the server's session in the background (its config changed, or it was
        deleted): the next call connects anew."""
        connection = self._connections.get(server_id)
        if connection is not None:
            self._drop(server_id, connection, "was changed or removed while the call ran")

    async def close(self) -> None:
        connections = list(self._connections.values())
        self._connections.clear()
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
        await asyncio.gather(*self._closing, return_exceptions=True)

    async def _request(self, endpoint: McpEndpoint, doing: str, request: Any) -> Any:
        connection = self._connection(endpoint)
        try:
            session = await connection.session()
            return await self._until_answer_or_gone(connection, request(session))
        except McpUnavailable:
            self._drop(endpoint.server_id, connection)
            raise
        except TimeoutError:
            self._drop_hung(endpoint, connection)
            raise McpUnavailable(self._timed_out(endpoint, doing)) from None
        except McpError as exc:
            if exc.error.code not in BROKEN_SESSION_CODES:
                raise McpToolError(
                    f"{endpoint.label} refused {doing}: {exc.error.message}"
                ) from exc
            if exc.error.code == 408:
                self._drop_hung(endpoint, connection)
                raise McpUnavailable(self._timed_out(endpoint, doing)) from exc
            self._drop(endpoint.server_id, connection)
            await asyncio.sleep(0)  # let the connection's task record why the server went
            raise McpUnavailable(f"{connection.why_gone()} while {doing}") from exc
        except Exception as exc:  # a garbled answer must not crash the step
            self._drop(endpoint.server_id, connection, "sent an answer troupe cannot read")
            raise McpUnavailable(
                f"{endpoint.label} sent an answer troupe cannot read while {doing}: "
                f"{type(exc).__name__}: {str(exc)[:300]}"
            ) from exc

    async def _until_answer_or_gone(self, connection: McpConnection, request: Any) -> Any:
        """The request's answer; TimeoutError past the limit (the SDK's own read timeout
        answers first, this bounds everything else); McpUnavailable if troupe stopped the
        server meanwhile (its pending requests would otherwise wait out the timeout)."""
        call = asyncio.ensure_future(request)
        gone = asyncio.ensure_future(connection.ended.wait())
        try:
            await asyncio.wait(
                {call, gone}, timeout=self.limits.call_timeout_s + 1, return_when="FIRST_COMPLETED"
            )
        finally:
            gone.cancel()
            if not call.done():
                call.cancel()
        if call.done() and not call.cancelled():
            return call.result()
        if gone.done() and not gone.cancelled():
            raise McpUnavailable(connection.why_gone())
        raise TimeoutError

    def _connection(self, endpoint: McpEndpoint) -> McpConnection:
        """The server's session, or a new one (no await here: concurrent callers share it)."""
        key = endpoint.server_id
        connection = self._connections.get(key)
        if connection is not None and (connection.dead or connection.endpoint != endpoint):
            self._drop(key, connection)
            connection = None
        if connection is None:
            connection = McpConnection(endpoint, self.limits)
            self._connections[key] = connection
        return connection

    def _drop(self, key: str, connection: McpConnection, because: str | None = None) -> None:
        """Forget the session and close it in the background (never wait on a hung one);
        `because` is what the calls still pending on it are told."""
        if self._connections.get(key) is connection:
            del self._connections[key]
        task = asyncio.create_task(connection.close(because))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _drop_hung(self, endpoint: McpEndpoint, connection: McpConnection) -> None:
        because = (
            f"did not answer within {self.limits.call_timeout_s:g} s (a call made at the same "
            "time); its session was closed and the next call starts it afresh"
        )
        self._drop(endpoint.server_id, connection, because)

    def _timed_out(self, endpoint: McpEndpoint, doing: str) -> str:
        return (
            f"{endpoint.label} did not answer within {self.limits.call_timeout_s:g} s while "
            f"{doing}; its session was closed and the next call starts it afresh"
        )


def result_text(result: mcp_types.CallToolResult, max_chars: int = 100_000) -> str:
    """What a tool call returned, as the text the model reads (clipped like a user tool's)."""
    parts: list[str] = []
    for item in result.content:
        if isinstance(item, mcp_types.TextContent):
            parts.append(item.text)
        elif isinstance(item, mcp_types.EmbeddedResource):
            resource = item.resource
            text = getattr(resource, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource {resource.uri}]")
        elif isinstance(item, mcp_types.ResourceLink):
            parts.append(f"[resource {item.uri}]")
        else:
            parts.append(f"[{item.type} content]")
    if not parts and result.structuredContent is not None:
        with contextlib.suppress(TypeError, ValueError):
            parts.append(json.dumps(result.structuredContent, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n… (cut: longer than {max_chars} characters)"
    return text
