"""`troupe server`'s uvicorn protocol (troupe/cli/one_write.py), driven as uvicorn drives it
on a connection: a sized answer leaves in one write, head and body together; everything
else (streams, HEAD, 204, 100-continue, keep-alive, errors) as uvicorn writes it."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.server import ServerState

from troupe.cli.one_write import OneWriteHttpToolsProtocol
from troupe.cli.serving import uvicorn_options

ANSWER = {"messages": [{"id": "message-1", "content": "é" * 3000}], "usage": {"step_count": 1}}


class RecordingTransport(asyncio.Transport):
    """The connection as uvicorn sees it: every write kept, one entry per syscall."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.wrote = asyncio.Event()
        self.closed = False

    async def until(self, written: Callable[[list[bytes]], bool]) -> None:
        """Wait (with a deadline) until the writes so far satisfy `written`."""
        async with asyncio.timeout(10):
            while not written(self.writes):
                self.wrote.clear()
                await self.wrote.wait()

    def write(self, data: Any) -> None:
        if data:  # as uvloop: an empty write is no syscall
            self.writes.append(bytes(data))
            self.wrote.set()

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8283), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def make_app(first_event_sent: asyncio.Event, finish_stream: asyncio.Event) -> Starlette:
    async def answer(request: Request) -> Response:
        body = await request.body()
        return JSONResponse({**ANSWER, "echo": body.decode()} if body else ANSWER)

    async def events() -> AsyncIterator[str]:
        yield 'data: {"message_type": "reasoning_message"}\n\n'
        first_event_sent.set()
        await finish_stream.wait()
        yield 'data: {"message_type": "assistant_message"}\n\n'
        yield "data: [DONE]\n\n"

    async def stream(request: Request) -> Response:
        return StreamingResponse(events(), media_type="text/event-stream")

    async def nothing(request: Request) -> Response:
        return Response(status_code=204)

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    return Starlette(
        routes=[
            Route("/answer", answer, methods=["GET", "POST", "HEAD"]),
            Route("/stream", stream),
            Route("/nothing", nothing, methods=["DELETE"]),
            Route("/broken", broken),
        ]
    )


class Connection:
    def __init__(self) -> None:
        self.first_event_sent = asyncio.Event()
        self.finish_stream = asyncio.Event()
        options = uvicorn_options("127.0.0.1", 8283, "warning", access_log=False)
        assert options["http"] is OneWriteHttpToolsProtocol  # what `troupe server` runs
        config = uvicorn.Config(
            make_app(self.first_event_sent, self.finish_stream), lifespan="off", **options
        )
        self.transport = RecordingTransport()
        self.protocol = OneWriteHttpToolsProtocol(config, ServerState(), app_state={})
        self.protocol.connection_made(self.transport)

    async def request(self, raw: bytes, writes: int) -> list[bytes]:
        """Feed a request; wait (with a deadline) until `writes` more writes came, return them."""
        before = len(self.transport.writes)
        self.protocol.data_received(raw)
        await self.transport.until(lambda done: len(done) >= before + writes)
        return self.transport.writes[before:]


def split(write: bytes) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head, _, body = write.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    return status, dict(line.split(b": ", 1) for line in lines), body


async def test_a_sized_answer_leaves_in_one_write_intact_and_keeps_the_connection() -> None:
    connection = Connection()
    get = b"GET /answer HTTP/1.1\r\nhost: x\r\n\r\n"
    for _ in range(2):  # keep-alive: the second request on the same connection too
        (write,) = await connection.request(get, writes=1)
        status, headers, body = split(write)
        assert status == b"HTTP/1.1 200 OK"
        assert int(headers[b"content-length"]) == len(body)
        assert json.loads(body) == ANSWER
    assert not connection.transport.closed
    await asyncio.sleep(0.01)
    assert len(connection.transport.writes) == 2  # nothing written twice, nothing left held


async def test_expect_100_continue_then_the_answer_in_one_write() -> None:
    connection = Connection()
    payload = b'{"messages":[]}'
    raw = (
        b"POST /answer HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n"
        b"content-length: %d\r\n\r\n" % len(payload)
    )
    (interim,) = await connection.request(raw, writes=1)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    (write,) = await connection.request(payload, writes=1)
    status, _, body = split(write)
    assert status == b"HTTP/1.1 200 OK"
    assert json.loads(body)["echo"] == payload.decode()


async def test_a_stream_writes_its_head_and_each_event_as_they_come() -> None:
    connection = Connection()
    connection.protocol.data_received(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
    async with asyncio.timeout(10):
        await connection.first_event_sent.wait()
    await connection.transport.until(lambda done: len(done) >= 2)
    head, first = connection.transport.writes  # before the stream goes on
    status, headers, _ = split(head)
    assert status == b"HTTP/1.1 200 OK"
    assert headers[b"transfer-encoding"] == b"chunked"
    assert b"reasoning_message" in first
    connection.finish_stream.set()
    await connection.transport.until(lambda done: done[-1].endswith(b"0\r\n\r\n"))
    rest = b"".join(connection.transport.writes[2:])
    assert b"assistant_message" in rest
    assert b"[DONE]" in rest


async def test_head_and_204_answers_write_their_head_at_once() -> None:
    connection = Connection()
    (head,) = await connection.request(b"HEAD /answer HTTP/1.1\r\nhost: x\r\n\r\n", writes=1)
    status, headers, body = split(head)
    assert status == b"HTTP/1.1 200 OK"
    assert int(headers[b"content-length"]) > 0
    assert body == b""
    (empty,) = await connection.request(b"DELETE /nothing HTTP/1.1\r\nhost: x\r\n\r\n", writes=1)
    assert split(empty)[0] == b"HTTP/1.1 204 No Content"
    (write,) = await connection.request(b"GET /answer HTTP/1.1\r\nhost: x\r\n\r\n", writes=1)
    assert json.loads(split(write)[2]) == ANSWER  # the connection still serves


async def test_an_application_error_is_a_500_in_one_write() -> None:
    connection = Connection()
    (write,) = await connection.request(b"GET /broken HTTP/1.1\r\nhost: x\r\n\r\n", writes=1)
    status, _, body = split(write)
    assert status == b"HTTP/1.1 500 Internal Server Error"
    assert body == b"Internal Server Error"


async def test_a_small_body_sent_apart_from_its_head_starts_its_request_once_whole() -> None:
    connection = Connection()
    payload = json.dumps({"messages": [{"role": "user", "content": "é" * 100}]}).encode()
    head = b"POST /answer HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(payload)
    for _ in range(2):  # and again on the kept connection
        connection.protocol.data_received(head)
        await asyncio.sleep(0.01)
        assert not connection.protocol.tasks  # nothing started on the head alone
        (write,) = await connection.request(payload, writes=1)
        assert json.loads(split(write)[2])["echo"] == payload.decode()
    # A client gone before its body: nothing started, nothing written.
    before = len(connection.transport.writes)
    connection.protocol.data_received(head + payload[:10])
    connection.protocol.connection_lost(None)
    await asyncio.sleep(0.01)
    assert not connection.protocol.tasks
    assert len(connection.transport.writes) == before


async def test_large_and_chunked_bodies_start_at_their_head_as_in_uvicorn() -> None:
    connection = Connection()
    large = b"x" * (70 * 1024)  # past uvicorn's read limit: the application must read it
    head = b"POST /answer HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n" % len(large)
    connection.protocol.data_received(head)
    await asyncio.sleep(0.01)
    assert len(connection.protocol.tasks) == 1
    for start in range(0, len(large), 16 * 1024):
        connection.protocol.data_received(large[start : start + 16 * 1024])
    await connection.transport.until(lambda done: len(done) >= 1)
    assert json.loads(split(connection.transport.writes[-1])[2])["echo"] == large.decode()
    chunked = b"POST /answer HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    connection.protocol.data_received(chunked)
    await asyncio.sleep(0.01)
    assert len(connection.protocol.tasks) == 1
    (write,) = await connection.request(b"5\r\nhello\r\n0\r\n\r\n", writes=1)
    assert json.loads(split(write)[2])["echo"] == "hello"
