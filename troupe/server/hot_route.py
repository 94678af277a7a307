"""`POST /v1/agents/{agent_id}/messages` served straight from troupe's middlewares, past the
rest of FastAPI's stack.

Between troupe's middlewares and the endpoint FastAPI puts a dozen layers on every request:
Starlette's exception middleware and its per-request wrapper, FastAPI's exit-stack
middleware, the router's walk over its included routers, the route's inclusion context, the
request-response wrapper with two exit stacks, and Starlette's body stream. In the HTTP
layer's profile they were about a fifth of its CPU on the route every message takes. Here,
as the innermost of troupe's middlewares (the body limit, admission, metrics and spans, the
SDK line and the trailing-slash rewrite all stay outside it), a request for that route whose
body is the ordinary one (see server/json_routes.py) is answered by the endpoint directly;
the exceptions it raises go to the application's exception handlers as Starlette's
exception middleware would send them (a handled one answered by its handler, any other
raised on to Starlette's server-error middleware). Any other request, and that route's
requests with another content type or a body its model refuses, go on down FastAPI's stack,
the body handed on as read: every answer there stays FastAPI's, word for word.
"""

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from troupe.server.json_routes import Direct
from troupe.server.middleware import replaying

Handlers = tuple[dict[int, Callable[..., Any]], dict[type[BaseException], Callable[..., Any]]]


class HotRoute:
    """Add it as the innermost middleware, inside `LimitBodySize` (which reads the body
    first and hands it on whole, or not at all); `direct` calls `route`'s endpoint."""

    def __init__(self, app: ASGIApp, route: APIRoute, direct: Direct) -> None:
        self.app = app
        self.route = route
        self.direct = direct
        self.handlers: Handlers | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            match = self.route.path_regex.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        body, whole = await _body(receive)
        if not whole:  # the client went away while sending: nobody to answer
            return
        scope["path_params"] = match.groupdict()
        scope["route"] = self.route  # for the request metrics (server/observe.py)
        request = Request(scope, receive, send)
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            response = await self.direct(request, body)
            if response is not None:
                await response(scope, receive, noting_start)
        except Exception as exc:
            handler = self._handler(scope, exc)
            if handler is None:
                raise
            if started:
                raise RuntimeError(
                    "Caught handled exception, but response already started."
                ) from exc
            answer: Response = await handler(request, exc)
            await answer(scope, receive, send)
            return
        if response is None:
            await self.app(scope, replaying(body, receive), send)

    def _handler(self, scope: Scope, exc: Exception) -> Callable[..., Any] | None:
        """The handler Starlette's exception middleware would give `exc`: by status code
        for an HTTPException, else by the nearest class in its MRO; None for those the
        server-error middleware answers (500, Exception)."""
        if self.handlers is None:
            self.handlers = _split(scope["app"].exception_handlers)
        by_status, by_class = self.handlers
        if isinstance(exc, HTTPException) and exc.status_code in by_status:
            return by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in by_class:
                return by_class[cls]
        return None


def _split(handlers: Mapping[Any, Callable[..., Any]]) -> Handlers:
    """As FastAPI hands them to Starlette's exception middleware (applications.py)."""
    by_status: dict[int, Callable[..., Any]] = {}
    by_class: dict[type[BaseException], Callable[..., Any]] = {}
    for key, handler in handlers.items():
        if key in (500, Exception):
            continue
        if isinstance(key, int):
            by_status[key] = handler
        else:
            by_class[key] = handler
    return by_status, by_class


async def _body(receive: Receive) -> tuple[bytes, bool]:
    """The request's body, and whether it came whole (False: the client went away)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks), True
