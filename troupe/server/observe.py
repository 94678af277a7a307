"""Each HTTP request as a server span (joining the caller's trace when it sends a
`traceparent` header) and in the request metrics, labelled by route template, never by raw
path: ids in paths would make a metric series per agent."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"


class ObserveRequests:
    """Sits inside the trailing-slash rewrite and outside admission and the body limit, so
    the requests those refuse count too; the router writes the matched route into the same
    scope this middleware reads after the call."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        if scope["type"] != "http" or services is None:
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        telemetry = services.runtime.telemetry
        with telemetry.server_request(scope["method"], scope["headers"]) as span:
            try:
                await self.app(scope, receive, noting_status)
            finally:
                route = getattr(scope.get("route"), "path", None) or UNMATCHED
                span.answered(route, status)
