"""Which SDK line sent the request. Letta's newest answers are what troupe gives, but where
the 0.1.x SDK cannot read one (a field it requires that is now null), that SDK, which names
itself in the `X-Fern-SDK-Version` header, gets the value it needs."""

from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from troupe.schemas.common import LEGACY_SDK_CONTEXT

_legacy_sdk: ContextVar[bool] = ContextVar("legacy_sdk", default=False)


def serialization_context() -> dict[str, Any] | None:
    """What the response serialiser is told about the client (see schemas.common)."""
    return LEGACY_SDK_CONTEXT if _legacy_sdk.get() else None


class NoteSdkLine:
    """Notes, for the request's own context, whether the 0.1.x SDK sent it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        version = dict(scope["headers"]).get(b"x-fern-sdk-version", b"")
        token = _legacy_sdk.set(version.startswith(b"0."))
        try:
            await self.app(scope, receive, send)
        finally:
            _legacy_sdk.reset(token)
