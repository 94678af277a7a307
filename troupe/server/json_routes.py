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
and no dependency (with an API key configured, the routers' key check is one: FastAPI's
handler then does everything, as before)."""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import fastapi.routing
from fastapi import Request, Response, params
from pydantic import BaseModel, ValidationError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
JSON = "application/json"


class JsonBodyRoute(fastapi.routing.APIRoute):
    """Use as an `APIRouter`'s `route_class`; routes that do not qualify behave as FastAPI's."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        plan = _plan(_effective_dependant(self), self.endpoint)
        if plan is None:
            return handler
        request_name, path_names, body_name, model = plan
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            if request.headers.get("content-type") != JSON:
                return await handler(request)
            try:
                body = model.model_validate_json(await request.body())
            except ValidationError:
                return await handler(request)  # FastAPI's own answer, from the kept body
            kwargs: dict[str, Any] = {name: request.path_params[name] for name in path_names}
            kwargs[body_name] = body
            if request_name is not None:
                kwargs[request_name] = request
            response: Response = await endpoint(**kwargs)
            return response

        return handle


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


def _plan(
    dependant: Any, endpoint: Callable[..., Any]
) -> tuple[str | None, list[str], str, type[BaseModel]] | None:
    """(request parameter, path parameters, body parameter, body model) when the endpoint
    can be called without FastAPI solving anything; None otherwise."""
    if dependant is None or not inspect.iscoroutinefunction(endpoint):
        return None
    answers = inspect.signature(endpoint).return_annotation
    if not (inspect.isclass(answers) and issubclass(answers, Response)):
        return None
    others = (
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.dependencies,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
    )
    if any(others) or len(dependant.body_params) != 1:
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
    return dependant.request_param_name, path_names, body.name, model
