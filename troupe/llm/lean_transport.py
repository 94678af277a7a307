"""A lean HTTP/1.1 transport under the vendor SDKs' `httpx2` client.

The SDKs' retries, errors, authentication and response handling stay; what goes is their
HTTP stack below `httpx2.AsyncClient` (httpcore2, h11, anyio): about 1,700 Python calls per
model call, mostly header handling, ~1 ms of CPU each time. Here a connection is an asyncio
protocol fed to the C `httptools` parser (uvicorn's), kept alive in a per-origin pool that
is a list: taking and giving back a connection walks nothing.

What it keeps of httpcore's behaviour: TLS with the default context (`SSL_CERT_FILE` and
`SSL_CERT_DIR` honoured), the request's connect/read/write timeouts raised as `httpx2`'s
timeout exceptions and failures as its `ConnectError`/`ReadError`/`RemoteProtocolError`
(what the SDKs turn into their `APITimeoutError`/`APIConnectionError`, after their
retries), one silent retry when a kept-alive connection turns out closed before any byte
of the answer (the server closed it while idle), bodies by Content-Length, chunked or up to
the close, streamed as they arrive, and `Connection: close` on either side.
"""

import asyncio
import contextlib
from typing import Any, NamedTuple

import httptools
import httpx2

KEEPALIVE_EXPIRY_S = 5.0  # httpx's default: servers often close idle ones soon after
MAX_IDLE_PER_ORIGIN = 100  # the SDKs' default `max_keepalive_connections`
Origin = tuple[str, str, int]


class LeanTransport(httpx2.AsyncBaseTransport):
    """HTTP/1.1 over asyncio with httptools; one pool of idle connections per origin. The
    connections belong to the event loop that opened them: on another loop they are let go
    (the SDK clients are shared, and tests and benchmarks run one loop after another)."""

    def __init__(
        self,
        max_idle: int = MAX_IDLE_PER_ORIGIN,
        keepalive_expiry: float = KEEPALIVE_EXPIRY_S,
    ) -> None:
        self.tls = httpx2.create_ssl_context()  # honours SSL_CERT_FILE; takes milliseconds
        self.tls.set_alpn_protocols(["http/1.1"])
        self.max_idle = max_idle
        self.keepalive_expiry = keepalive_expiry
        self.idle: dict[Origin, list[_Connection]] = {}
        self.connections_opened = 0  # for tests
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fallback: httpx2.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if request.method == "HEAD" or url.scheme not in ("http", "https"):
            # A HEAD answer's framing the parser cannot be told; no SDK path sends one.
            return await self.fallback().handle_async_request(request)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._let_go()
            self._loop = loop
        timeout = request.extensions.get("timeout") or {}
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        head, body, closing = await _request_bytes(request)
        while True:
            connection = self._idle_connection(origin, loop.time())
            reused = connection is not None
            if connection is None:
                connection = await self._connect(loop, origin, timeout.get("connect"))
            try:
                await connection.send(head + body, timeout.get("write"))
                await connection.answer_head(timeout.get("read"))
            except _ClosedBeforeAnswer as exc:
                connection.close()
                if reused:
                    continue  # closed by the server while idle: once more, on a new one
                raise httpx2.RemoteProtocolError(str(exc)) from None
            except BaseException:
                connection.close()
                raise
            connection.closing |= closing
            return httpx2.Response(
                status_code=connection.status,
                headers=bytes_headers(connection.headers),
                stream=_Body(self, origin, connection, timeout.get("read")),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": connection.reason},
            )

    def _idle_connection(self, origin: Origin, now: float) -> "_Connection | None":
        idle = self.idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be closed
            if not connection.lost and now - connection.idle_since < self.keepalive_expiry:
                connection.idle = False
                return connection
            connection.close()
        return None

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, origin: Origin, within: float | None
    ) -> "_Connection":
        scheme, host, port = origin
        tls = self.tls if scheme == "https" else None
        try:
            async with asyncio.timeout(within):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"no connection to {host}:{port} in {within} s") from None
        except OSError as exc:  # refused, unreachable, TLS refused (ssl.SSLError)
            raise httpx2.ConnectError(str(exc)) from exc
        self.connections_opened += 1
        return connection

    def give_back(self, origin: Origin, connection: "_Connection") -> None:
        """A connection whose answer was read to its end and closed."""
        idle = self.idle.setdefault(origin, [])
        if connection.reusable() and len(idle) < self.max_idle and self._loop is connection.loop:
            connection.idle = True
            connection.idle_since = connection.loop.time()
            idle.append(connection)
            if connection.idle_since - idle[0].idle_since > self.keepalive_expiry:
                idle.pop(0).close()  # the oldest has expired: one check per give back
        else:
            connection.close()

    def fallback(self) -> httpx2.AsyncHTTPTransport:
        if self._fallback is None:
            self._fallback = httpx2.AsyncHTTPTransport(verify=self.tls)
        return self._fallback

    def _let_go(self) -> None:
        for idle in self.idle.values():
            for connection in idle:
                with contextlib.suppress(RuntimeError):  # its loop may be closed already
                    connection.close()
        self.idle.clear()

    async def aclose(self) -> None:
        self._let_go()
        if self._fallback is not None:
            await self._fallback.aclose()


async def _request_bytes(request: httpx2.Request) -> tuple[bytes, bytes, bool]:
    """The request's head and body as sent, and whether it asks to close the connection.
    A request rendered from a template (llm/request_templates.py) brings its head, used
    while its headers are still the ones it was rendered with."""
    try:
        body = request.content
    except httpx2.RequestNotRead:
        body = await request.aread()
    wire = getattr(request, "wire", None)
    if wire is not None and request.headers._list == wire.headers:  # in C, by identity
        return wire.head, body, wire.closing
    raw = request.headers.raw
    chunked, closing = framing(raw)
    if chunked:  # a body of unknown length, read whole by now: one chunk and the last one
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return request_head(request.method, request.url, raw), body, closing


class Wire(NamedTuple):
    """A request's head as it goes out, for the headers it was made of, as `httpx2.Headers`
    holds them (`closing`: they ask to close the connection after the answer)."""

    head: bytes
    headers: list[tuple[bytes, bytes, bytes]]
    closing: bool


def framing(raw: list[tuple[bytes, bytes]]) -> tuple[bool, bool]:
    """Whether headers send the body chunked, and whether they ask to close the connection."""
    chunked = closing = False
    for name, value in raw:
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            chunked = value.lower() == b"chunked"
        elif lowered == b"connection":
            closing = value.lower() == b"close"
    return chunked, closing


def bytes_headers(raw: list[tuple[bytes, bytes]], encoding: str | None = None) -> httpx2.Headers:
    """`httpx2.Headers(raw)` for names and values that are bytes already: what its
    constructor makes of them (name, lowered name, value), without its checks and calls
    per header; its private list is pinned by tests/llm/test_request_templates.py."""
    headers = httpx2.Headers(encoding=encoding)
    headers._list = [(name, name.lower(), value) for name, value in raw]
    return headers


def request_head(method: str, url: httpx2.URL, raw: list[tuple[bytes, bytes]]) -> bytes:
    """An HTTP/1.1 request's head: its request line and headers as given."""
    lines = [b"%s %s HTTP/1.1\r\n" % (method.encode(), url.raw_path)]
    lines += [b"%s: %s\r\n" % header for header in raw]
    lines.append(b"\r\n")
    return b"".join(lines)


class _ClosedBeforeAnswer(Exception):
    """The connection closed before any byte of the answer came."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: its socket's protocol, fed to httptools, and the answer it
    is reading. `waiter` is woken at every event (bytes, end of answer, close, drained)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False  # the socket's write buffer is full
        self.lost = False
        self.idle = False  # in the pool, between answers
        self.idle_since = 0.0
        self._new_answer()

    def _new_answer(self) -> None:
        self.received = False
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.chunks: list[bytes] = []
        self.complete = False
        self.closing = False  # either side asked to close after this answer
        self.error: Exception | None = None

    # asyncio's protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.idle:  # nothing was asked: whatever this is, the connection is spoilt
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.error = httpx2.RemoteProtocolError(f"malformed answer: {exc}")
            self.close()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.headers_done and not self.complete and self.error is None:
            if self._framed():
                self.error = httpx2.RemoteProtocolError("the server closed the answer midway")
            else:
                self.complete = True  # an answer that ends where the connection does
        self._wake()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake()

    # httptools' callbacks
    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        self.closing |= not self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

    # the request's side
    async def send(self, data: bytes, within: float | None) -> None:
        self._new_answer()
        assert self.transport is not None
        self.transport.write(data)
        while self.paused and not self.lost:
            await self.wait(within, httpx2.WriteTimeout)

    async def answer_head(self, within: float | None) -> None:
        while not self.headers_done:
            if self.error is not None:
                raise self.error
            if self.lost:
                if not self.received:
                    raise _ClosedBeforeAnswer("the server closed the connection without answering")
                raise httpx2.RemoteProtocolError("the server closed the connection midway")
            await self.wait(within, httpx2.ReadTimeout)

    async def wait(self, within: float | None, error: type[httpx2.TimeoutException]) -> None:
        """Until the next event on the connection; `error` after `within` seconds."""
        waiter = self.waiter = self.loop.create_future()
        timer = None if within is None else self.loop.call_later(within, _expire, waiter)
        try:
            await waiter
        except TimeoutError:
            self.close()
            raise error(f"no progress in {within} s") from None
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _framed(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" in names or b"transfer-encoding" in names

    def reusable(self) -> bool:
        return self.complete and not self.closing and not self.lost and self.error is None

    def close(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.close()
        self.lost = True


def _expire(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def read_whole(response: httpx2.Response) -> bytes:
    """The whole body of an answer of this transport, not decoded; its stream closed."""
    stream = response.stream
    assert isinstance(stream, _Body)
    return await stream.read_all()


class _Body(httpx2.AsyncByteStream):
    """An answer's body as its bytes arrive; its connection goes back to the pool when the
    body was read to the end and closed, else it is closed. Its own iterator, read once
    (not an async generator: one fewer to start, hook into the loop and close per answer)."""

    def __init__(
        self, pool: LeanTransport, origin: Origin, connection: _Connection, timeout: float | None
    ) -> None:
        self.pool = pool
        self.origin = origin
        self.connection: _Connection | None = connection
        self.timeout = timeout

    def __aiter__(self) -> "_Body":
        return self

    async def __anext__(self) -> bytes:
        connection = self.connection
        while connection is not None:
            if connection.chunks:
                data = b"".join(connection.chunks)
                connection.chunks.clear()
                return data
            if connection.complete:
                break
            if connection.error is not None:
                raise connection.error
            if connection.lost:
                raise httpx2.ReadError("the connection closed midway through the answer")
            await connection.wait(self.timeout, httpx2.ReadTimeout)
        raise StopAsyncIteration

    async def read_all(self) -> bytes:
        """The whole body, in one piece, the stream closed after (as `aread` leaves it)."""
        connection = self.connection
        try:
            while connection is not None and not connection.complete:
                if connection.error is not None:
                    raise connection.error
                if connection.lost:
                    raise httpx2.ReadError("the connection closed midway through the answer")
                await connection.wait(self.timeout, httpx2.ReadTimeout)
        finally:
            await self.aclose()
        if connection is None:
            raise httpx2.StreamConsumed()
        data = b"".join(connection.chunks)
        connection.chunks.clear()
        return data

    async def aclose(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            self.pool.give_back(self.origin, connection)
