"""Plain ASGI middlewares (cheaper than Starlette's BaseHTTPMiddleware on the hot path)."""

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StripTrailingSlash:
    """Route `/v1/agents/` and `/v1/agents` alike: the SDKs use both, and neither follows the
    redirect FastAPI would otherwise send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = {**scope, "path": path.rstrip("/") or "/"}
        await self.app(scope, receive, send)


class LimitBodySize:
    """Refuse bodies over `max_bytes` with 413. The body is read here, up to the limit, and
    handed on whole: FastAPI buffers it anyway, so this costs no extra copy of note."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "DELETE", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send) -> None:
        await _send_json(send, 413, f"request body is larger than {self.max_bytes} bytes")


def replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` that first gives back `body`, already read, as the whole request."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class AdmitRequests:
    """Bounded admission: past `max_in_flight` requests in progress, answer 503 at once with
    a Retry-After instead of queueing without end (each waiting request holds memory, and
    past the database pools' timeouts it would fail anyway, later and less clearly). Paths
    under `exempt` (health checks) are always served, so a full server still reports in."""

    def __init__(self, app: ASGIApp, max_in_flight: int, exempt: Sequence[str] = ()) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.exempt = tuple(exempt)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            detail = (
                f"the server has {self.max_in_flight} requests in progress, its limit "
                "(TROUPE_MAX_REQUESTS_IN_FLIGHT); retry after a moment"
            )
            await _send_json(send, 503, detail, [(b"retry-after", b"1")])
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _send_json(
    send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
