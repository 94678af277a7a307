"""501 for the SDK routes troupe does not serve yet: a client calling one learns that troupe
lacks the route, not that its id was wrong. Built from the table of the SDKs' routes (not a
catch-all, so a typo in a path still answers 404) and installed after the real routers: a
route served for real is left out of the table's routes, so the 501s shrink by themselves
as routes are added."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.params import Depends
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

from troupe.server.sdk_routes import sdk_routes

_PARAMETER = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return _PARAMETER.sub("{}", path)


def _sample(path: str) -> str:
    """A concrete path of a template (each parameter an id-like word)."""
    return _PARAMETER.sub("x-sample", path)


@dataclass(frozen=True)
class _Served:
    """A route served for real (a method and the full path, however the routers are nested)."""

    method: str
    path: str
    path_regex: re.Pattern[str]


def _served(app: FastAPI) -> list[_Served]:
    # FastAPI's own walk of the included routers, the one get_openapi() makes. Not the OpenAPI
    # document itself: building it took half of a server's start-up CPU after the imports
    # (about 0.9 s on a 2-core machine), and only a client that asks for it needs it.
    return [
        _Served(method, context.path, compile_path(context.path)[0])
        for context in iter_route_contexts(app.routes)
        if context.path is not None
        for method in context.methods or ()
        if method != "HEAD"  # Starlette adds it beside each GET; no SDK calls it
    ]


def install_not_served(app: FastAPI, dependencies: Sequence[Depends]) -> list[tuple[str, str]]:
    """Add a 501 route for each SDK route no router serves; (method, path) of those added.
    Call it once every router is included."""
    real = _served(app)
    served = {(route.method, _shape(route.path)) for route in real}
    added: list[tuple[str, str]] = []
    for method, path, sdk_line in sdk_routes():
        if (method, _shape(path)) in served:
            continue
        route = APIRoute(
            path,
            _answer(method, path, sdk_line),
            methods=[method],
            include_in_schema=False,  # the OpenAPI document lists what troupe serves
            dependencies=list(dependencies),
        )
        if _shadowed(route, method, real):
            app.router.routes.insert(0, route)
        else:
            app.router.routes.append(route)
        added.append((method, path))
    return added


def _shadowed(route: APIRoute, method: str, real: list[_Served]) -> bool:
    """Whether a real route of the method would take this path first (`/v1/blocks/count`
    under `/v1/blocks/{block_id}`), and may be put ahead of it: only if the 501 route takes
    none of the real routes' own paths."""
    path = _sample(route.path)
    same_method = [r for r in real if r.method == method]
    if not any(r.path_regex.match(path) for r in same_method):
        return False
    return not any(route.path_regex.match(_sample(r.path)) for r in same_method)


def _answer(method: str, path: str, sdk_line: str) -> Any:
    detail = (
        f"troupe does not serve {method} {path} yet (a route of letta-client "
        f"{'1.x and 0.1.x' if sdk_line == 'both' else sdk_line}); see docs/api.md for the "
        "routes it serves"
    )

    async def not_served(request: Request) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=501)

    not_served.__name__ = f"not_served_{method.lower()}_{_shape(path)}"
    return not_served
