"""A route that reads a valid JSON body in one step, for the routes every message takes.

FastAPI handles a request by parsing the body with `json.loads`, checking its content type
through `email.message`, then solving the parameters (path, query, header, cookie, body) and
validating the parsed body field by field: about a third of the HTTP layer's CPU on
`POST /v1/agents/{agent_id}/messages`. When the request is the ordinary one (declared
`application/json`, a body the model accepts), this route validates the bytes straight into
the body's model (pydantic's own JSON parser, one pass) and calls the endpoint with it.
Anything else (another content type, an empty or invalid body) goes to FastAPI's handler
with the same request, whose body is kept: every error answer stays FastAPI's, word for word.

Only an endpoint with nothing else to solve takes the short way: `async`, answering a
`Response`, its parameters the `Request`, plain `str` path parameters and one body model,
and no dependency but checks that take only the `Request` and whose result is not used (the
routers' API-key check, with a key configured): those are awaited first, as FastAPI would
(it solves them before it reports a body's invalid fields, and after a body that is not JSON
at all, the order kept here by leaving both kinds of bad body to FastAPI's handler)."""

import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import fastapi.routing
from fastapi import Request, Response, params
from pydantic import BaseModel, ValidationError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# The endpoint called straight from a request and its body; None when the request is not the
# ordinary one and must go FastAPI's way.
Direct = Callable[[Request, bytes], Coroutine[Any, Any, Response | None]]
Check = Callable[[Request], Coroutine[Any, Any, None]]
JSON = "application/json"


class JsonBodyRoute(fastapi.routing.APIRoute):
    """Use as an `APIRouter`'s `route_class`; routes that do not qualify behave as FastAPI's."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        direct = direct_call(_effective_dependant(self), self.endpoint)
        if direct is None:
            return handler

        async def handle(request: Request) -> Response:
            response = await direct(request, await request.body())
            if response is None:
                return await handler(request)  # FastAPI's own answer, from the kept body
            return response

        return handle


def direct_call(
    dependant: Any, endpoint: Callable[..., Any], checks: Sequence[Check] = ()
) -> Direct | None:
    """The endpoint called without FastAPI, when it qualifies (see above): its dependencies
    that are checks of the request, then `checks` (the including router's, when the caller
    gives `dependant` without them), are awaited before it."""
    plan = _plan(dependant, endpoint)
    if plan is None:
        return None
    request_name, path_names, body_name, model, own_checks = plan

    async def direct(request: Request, body: bytes) -> Response | None:
        if _content_type(request.scope["headers"]) != JSON:
            return None
        try:
            parsed = model.model_validate_json(body)
        except ValidationError:
            return None
        for own, name in own_checks:
            await own(**{name: request})
        for check in checks:
            await check(request)
        kwargs: dict[str, Any] = {name: request.path_params[name] for name in path_names}
        kwargs[body_name] = parsed
        if request_name is not None:
            kwargs[request_name] = request
        response: Response = await endpoint(**kwargs)
        return response

    return direct


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    """What `request.headers.get("content-type")` gives (the first such header), read
    from the raw headers without building Starlette's `Headers` on every message."""
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1")
    return None


def _effective_dependant(route: fastapi.routing.APIRoute) -> Any:
    """The dependant FastAPI solves for this route where it is included: with the including
    router's dependencies (FastAPI 0.16x builds it while a context variable names it), or
    None when this FastAPI does not say (then the route keeps FastAPI's handler)."""
    current = getattr(fastapi.routing, "_effective_route_context_var", None)
    if current is None:
        return None
    context = current.get()
    if context is not None and context.original_route is route:
        return context.dependant
    return route.dependant


Plan = tuple[str | None, list[str], str, type[BaseModel], list[tuple[Callable[..., Any], str]]]


def _plan(dependant: Any, endpoint: Callable[..., Any]) -> Plan | None:
    """(request parameter, path parameters, body parameter, body model, checks: each with the
    name of its `Request` parameter) when the endpoint can be called without FastAPI solving
    anything; None otherwise."""
    if dependant is None or not inspect.iscoroutinefunction(endpoint):
        return None
    answers = inspect.signature(endpoint).return_annotation
    if not (inspect.isclass(answers) and issubclass(answers, Response)):
        return None
    found = [_request_check(dependency) for dependency in dependant.dependencies]
    checks = [check for check in found if check is not None]
    if _solves_more_than_a_request(dependant) or len(checks) != len(found):
        return None
    if len(dependant.body_params) != 1:
        return None
    (body,) = dependant.body_params
    model = body.field_info.annotation
    plain_body = type(body.field_info) is params.Body and not body.field_info.embed
    if not (plain_body and inspect.isclass(model) and issubclass(model, BaseModel)):
        return None
    if body.alias != body.name or not body.field_info.is_required():
        return None
    path_names = []
    for field in dependant.path_params:
        if field.field_info.annotation is not str or field.field_info.metadata:
            return None
        if field.alias != field.name:
            return None
        path_names.append(field.name)
    return dependant.request_param_name, path_names, body.name, model, checks


def _solves_more_than_a_request(dependant: Any) -> bool:
    """Whether FastAPI would solve anything for it beyond path and body parameters, the
    `Request` and its dependencies."""
    return any(
        (
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
            dependant.websocket_param_name,
            dependant.http_connection_param_name,
            dependant.response_param_name,
            dependant.background_tasks_param_name,
            dependant.security_scopes_param_name,
        )
    )


def _request_check(dependency: Any) -> tuple[Callable[..., Any], str] | None:
    """(the call, its `Request` parameter's name) for a dependency that is an `async def`
    taking only the `Request`, whose result nothing uses; None for any other."""
    call = dependency.call
    if dependency.name is not None or not inspect.iscoroutinefunction(call):
        return None
    if dependency.request_param_name is None or dependency.dependencies:
        return None
    if dependency.path_params or dependency.body_params or _solves_more_than_a_request(dependency):
        return None
    return call, dependency.request_param_name
