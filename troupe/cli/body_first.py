"""uvicorn's httptools protocol, starting a request's application task once its small body
is in, not at the end of its head.

The SDKs' HTTP client sends a request's head and its body in two writes, which mostly
arrive apart. uvicorn starts the application at the end of the head, so on every message
sent the request's task ran troupe's middlewares down to the body limit's `receive`, waited
there on an `asyncio.Event`, and was woken by the body a loop turn later, resumed back
through every middleware's frame. Here a request that declares a Content-Length up to
uvicorn's own read buffer limit (64 KiB) starts when its body is complete, and finds it
whole at its first `receive`. Any other request starts at the end of its head, as in
uvicorn: one that sends `Expect: 100-continue` (the client waits for the `100 Continue` that
uvicorn sends at the application's first `receive`), one with a chunked or a larger body
(uvicorn stops reading past that limit until the application takes what it has).
"""

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class BodyFirstHttpToolsProtocol(HttpToolsProtocol):
    _waiting: tuple[RequestResponseCycle, ASGI3Application] | None = None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        if cycle.more_body and self._body_comes_whole(cycle):
            self._waiting = (cycle, app)  # started by on_message_complete
            return
        super()._start_asgi_task(cycle, app)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        waiting, self._waiting = self._waiting, None
        if waiting is not None and waiting[0] is self.cycle:
            super()._start_asgi_task(*waiting)

    def _body_comes_whole(self, cycle: RequestResponseCycle) -> bool:
        """Whether the body will be read to its end without the application: a declared
        length within uvicorn's read limit, and no `100 Continue` to wait for."""
        if cycle.waiting_for_100_continue:
            return False
        for name, value in cycle.scope["headers"]:
            if name == b"content-length":
                return value.isdigit() and int(value) <= HIGH_WATER_LIMIT
            if name == b"transfer-encoding":
                return False
        return False
