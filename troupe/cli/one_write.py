"""uvicorn's httptools protocol, with a sized response's head and body sent in one write.

uvicorn writes a response's head (status line and headers) and its body in two
`transport.write` calls: two syscalls, and the first one wakes the client only for it to
wait for the second. In the window benchmark's profile the head's write alone was ~5% of the
server's CPU. Here, when a response has a Content-Length and a body to come, its head is held
until the first body chunk and goes out with it in one write. Everything else is uvicorn's
own code path, unchanged: chunked and streaming responses (SSE) write their head at once, as
do HEAD answers and empty bodies (204/304, Content-Length 0); keep-alive, pipelining, flow
control and `Expect: 100-continue` are uvicorn's.

uvicorn builds each request's `RequestResponseCycle` inline in `on_headers_complete` and only
schedules its task there, so the cycle is given its subclass and its holding transport right
after, before it runs.
"""

import asyncio
import json
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)


class HeadHoldingTransport:
    """One cycle's view of the connection: holds a write on request, prepends it to the next."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.hold_next = False
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.hold_next:
            self.hold_next = False
            self._held = bytes(data)
            return
        if self._held is not None:
            data, self._held = self._held + data, None
        self._transport.write(data)

    def release(self) -> None:
        """Write what is held now (a head whose body will not follow in one piece)."""
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def __getattr__(self, name: str) -> Any:
        # is_closing, close, get_extra_info...: the connection's own.
        return getattr(self._transport, name)


class OneWriteCycle(RequestResponseCycle):
    transport: HeadHoldingTransport  # type: ignore[assignment]

    async def send(self, message: ASGISendEvent) -> None:
        if self.response_started or message["type"] != "http.response.start":
            await super().send(message)  # a held head goes out with this body's write
            return
        # Drain first, so that uvicorn's start below runs without yielding: no other write
        # (a `100 Continue` from `receive`) can come between setting the hold and the head.
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        self.transport.hold_next = True
        try:
            await super().send(message)
        finally:
            self.transport.hold_next = False
        sized_body_follows = (
            self.chunked_encoding is False
            and self.expected_content_length > 0
            and self.scope["method"] != "HEAD"
        )
        if not sized_body_follows:
            self.transport.release()


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's `http=` protocol class for `troupe server`."""

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request whose head it cannot parse (malformed, or larger
        than the parser takes: a URL of hundreds of KB), which never reaches the app: JSON
        with a `detail`, as every error of troupe's is, not plain text; then the close."""
        body = json.dumps(
            {
                "detail": f"{msg.rstrip('.')}: the request line or headers could "
                "not be parsed (malformed, or too large)"
            }
        ).encode()
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(b"content-type: application/json\r\n")
        head.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.write(b"".join([*head, body]))
        self.transport.close()

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not previous and type(cycle) is RequestResponseCycle:
            cycle.__class__ = OneWriteCycle
            cycle.transport = HeadHoldingTransport(cycle.transport)  # type: ignore[assignment]
