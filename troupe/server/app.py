"""The FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from troupe import __version__
from troupe.bootstrap import start_services, stop_services
from troupe.config import Settings
from troupe.server.ade import install_ade
from troupe.server.deps import require_api_key
from troupe.server.errors import install_error_handlers
from troupe.server.hot_route import HotRoute
from troupe.server.middleware import AdmitRequests, LimitBodySize, StripTrailingSlash
from troupe.server.not_served import install_not_served
from troupe.server.observe import ObserveRequests
from troupe.server.routes import (
    a2a,
    activity,
    agent_file,
    agent_folders,
    agents,
    all_messages,
    archival,
    archives,
    blocks,
    conversations,
    folders,
    groups,
    health,
    identities,
    jobs,
    mcp_legacy,
    mcp_servers,
    memory,
    messages,
    metrics,
    models,
    providers,
    runs,
    schedules,
    searches,
    sources,
    steps,
    tags,
    tools,
    traces,
)
from troupe.server.sdk_line import NoteSdkLine

# FastAPI's own OpenTelemetry spans and metrics: off. troupe makes its own (server/observe.py);
# a global provider set by the host would otherwise double them, at a cost per request.
NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = await start_services(settings)
        try:
            yield
        finally:
            await stop_services(app.state.services)

    app = FastAPI(
        title="troupe",
        version=__version__,
        description="Stateful multi-agent LLM server with a Letta-compatible /v1 API.",
        lifespan=lifespan,
        telemetry=NO_FASTAPI_TELEMETRY,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Without a key the check lets everything through: leave it out, as FastAPI would
    # otherwise solve it, a dependency of its own, on every request.
    auth = [Depends(require_api_key)] if settings.api_key else []
    # First: the route every message takes (FastAPI tries routers in order; no other route's
    # path can be one of its paths, so this order changes nothing else).
    app.include_router(messages.router, dependencies=auth)
    app.include_router(agent_file.router, dependencies=auth)  # before /agents/{agent_id}
    for module in (
        agents,
        runs,
        steps,
        jobs,
        traces,
        blocks,
        tools,
        tags,
        activity,
        schedules,
        all_messages,
        searches,
        providers,
        groups,
        conversations,
    ):
        app.include_router(module.router, dependencies=auth)
    for module in (archival, archives, models, metrics):  # metrics: see routes/metrics.py
        app.include_router(module.router, dependencies=auth)
    app.include_router(health.router)  # open to probes: it tells the version and status only
    for module in (sources, folders, agent_folders):  # sources first: /sources/name/{name}
        app.include_router(module.router, dependencies=auth)
    for module in (mcp_servers, mcp_legacy):
        app.include_router(module.router, dependencies=auth)
    app.include_router(memory.router, dependencies=auth)
    app.include_router(identities.router, dependencies=auth)
    app.include_router(a2a.router)  # the card is open; the endpoint checks the key itself
    install_ade(app)
    install_not_served(app, auth)  # after every router: a route served for real wins
    _install_middleware(app, settings)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    hot = messages.hot_route(checks=[require_api_key] if settings.api_key else [])
    if hot is not None:
        route, direct = hot
        app.add_middleware(HotRoute, route=route, direct=direct)  # innermost: see hot_route.py
    app.add_middleware(LimitBodySize, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        AdmitRequests, max_in_flight=settings.max_requests_in_flight, exempt=["/v1/health"]
    )
    app.add_middleware(ObserveRequests)
    app.add_middleware(StripTrailingSlash)
    app.add_middleware(NoteSdkLine)
