"""One live session with an MCP server.

The MCP SDK's transports and sessions are anyio contexts that must be entered and left by
one task, so each connection has a task of its own that opens the transport, initializes
the session, and holds both open until the connection is closed or the server goes away.
Callers share the session (MCP requests carry ids; many may be in flight at once)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from troupe.tools.mcp.endpoint import McpEndpoint
from troupe.tools.mcp.limits import McpLimits, McpUnavailable
from troupe.tools.mcp.stdio_sandbox import StdioSandbox
from troupe.tools.sandbox import watch_disk
from troupe.tools.sandbox_identity import SHARED_TMP_DIRS

CLOSE_GRACE_S = 5.0
HTTP_READ_TIMEOUT_S = 300.0  # an SSE stream stays open between events


class McpStopped(Exception):
    """troupe stopped the server for going past a sandbox limit."""


class McpConnection:
    def __init__(self, endpoint: McpEndpoint, limits: McpLimits) -> None:
        self.endpoint = endpoint
        self._limits = limits
        self._session: ClientSession | None = None
        self._failure: BaseException | None = None
        self._sandbox: StdioSandbox | None = None
        self._closed_because: str | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self.ended = asyncio.Event()  # the session is over, for whatever reason
        self._task = asyncio.create_task(self._hold(), name=f"mcp:{endpoint.name}")

    @property
    def dead(self) -> bool:
        return self._task.done()

    async def session(self) -> ClientSession:
        """The initialized session, once the server has answered (bounded by the limits)."""
        try:
            await asyncio.wait_for(self._ready.wait(), self._limits.connect_timeout_s)
        except TimeoutError:
            raise McpUnavailable(
                f"{self.endpoint.label} did not start and answer within "
                f"{self._limits.connect_timeout_s:g} s"
            ) from None
        if self._session is None:
            raise McpUnavailable(self.why_gone())
        return self._session

    def why_gone(self) -> str:
        """What became of the server, in words (with its last stderr line, if any)."""
        if self._failure is not None and not isinstance(self._failure, asyncio.CancelledError):
            detail = _describe(self._failure)
        elif self._closed_because is not None:
            detail = self._closed_because
        else:
            detail = "closed the connection (its process ended, or it hung up)"
        said = self._sandbox.stderr_tail() if self._sandbox is not None else ""
        return f"{self.endpoint.label} {detail}" + (f" (it said: {said})" if said else "")

    async def close(self, because: str | None = None) -> None:
        """End the session; `because` (the first given) is what its pending calls are told."""
        if self._closed_because is None:
            self._closed_because = because
        self._closing.set()
        done, _ = await asyncio.wait({self._task}, timeout=CLOSE_GRACE_S)
        if not done:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _hold(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self._session = session
                self._ready.set()
                await self._serve()
        except BaseException as exc:  # whatever ended it, callers learn why
            self._failure = exc
            if isinstance(exc, asyncio.CancelledError) and self._closing.is_set():
                return
        finally:
            self._session = None
            self._ready.set()
            try:
                if self._sandbox is not None:
                    await asyncio.shield(self._sandbox.close())
            finally:
                self.ended.set()  # after the clean-up: a caller told may look

    async def _serve(self) -> None:
        """Wait until the connection is closed or, for a stdio server, until it has used up
        the sandbox's disk budget (then it is stopped, as a user tool would be)."""
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._closing.wait())}
        if self._sandbox is not None:
            paths = [self._sandbox.workdir, *SHARED_TMP_DIRS]
            waits.add(asyncio.ensure_future(watch_disk(paths, self._limits.sandbox.max_disk_mb)))
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        for finished in done:
            if isinstance(finished.result(), str):
                reason = finished.result().replace("the tool was", "was")
                self._failure = McpStopped(reason)

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[tuple[Any, Any]]:
        endpoint = self.endpoint
        if endpoint.transport == "stdio":
            self._sandbox = StdioSandbox.open()
            params = self._sandbox.parameters(endpoint, self._limits.sandbox)
            async with stdio_client(params, errlog=self._sandbox.errlog) as (read, write):
                yield read, write
            return
        headers = dict(endpoint.headers)
        url = endpoint.url or ""
        if endpoint.transport == "sse":
            async with sse_client(
                url,
                headers=headers,
                timeout=self._limits.connect_timeout_s,
                sse_read_timeout=HTTP_READ_TIMEOUT_S,
            ) as (read, write):
                yield read, write
            return
        timeout = httpx.Timeout(self._limits.connect_timeout_s, read=HTTP_READ_TIMEOUT_S)
        async with (
            httpx.AsyncClient(headers=headers, timeout=timeout) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
        ):
            yield read, write


def _describe(exc: BaseException) -> str:
    """The innermost real cause of a failure (anyio wraps them in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, asyncio.CancelledError):
        return "was disconnected"
    if isinstance(exc, McpStopped):
        return str(exc)
    if isinstance(exc, httpx.ConnectError):
        return "could not be reached (connection refused or no such host)"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"answered HTTP {exc.response.status_code}"
    text = str(exc).strip() or type(exc).__name__
    return f"failed: {text}"
