"""The A2A SDK's side of the A2A routes: its JSON-RPC dispatcher over troupe's agents, and
its form of an agent card; a request whose method and `A2A-Version` (header or query)
disagree is refused here first (`a2a_versions`). Imported by the first A2A request, not at
start-up: the SDK's server package brings grpc and the SDK's client with it (0.7 s of CPU
and 24 MB on a 2-core machine), which a server that nobody reaches over A2A never needs."""

from typing import Any

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import (
    agent_card_to_dict,
    build_error_response,
)
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types.a2a_pb2 import AgentCard
from a2a.utils.constants import VERSION_HEADER
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from troupe.a2a.handler import AgentTasks
from troupe.server.a2a_versions import version_refusal


class _AgentContext(DefaultServerCallContextBuilder):
    """The SDK's call context, plus the agent of the endpoint's path. A version asked for in
    the query is put where the SDK's version check looks: it reads only headers."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["agent_id"] = request.path_params["agent_id"]
        asked = asked_version(request)
        if asked is not None:
            context.state["headers"][VERSION_HEADER.lower()] = asked
        return context


def asked_version(request: Request) -> str | None:
    """The A2A version a request asks for: its `A2A-Version` header, or, without one, the
    `A2A-Version` query parameter (A2A §3.6.1 allows either); None when it names none."""
    header = request.headers.get(VERSION_HEADER)
    return header if header is not None else request.query_params.get(VERSION_HEADER)


def dispatcher(state: State) -> JsonRpcDispatcher:
    """The app's dispatcher, made by the first request that needs it."""
    if getattr(state, "a2a_dispatcher", None) is None:
        tasks = AgentTasks(state.services.executor, state.settings.messaging())
        state.a2a_dispatcher = JsonRpcDispatcher(
            tasks, context_builder=_AgentContext(), enable_v0_3_compat=True
        )
    made: JsonRpcDispatcher = state.a2a_dispatcher
    return made


async def answer(state: State, request: Request) -> Response:
    """One JSON-RPC request: refused when its method is of another A2A version than the one
    it asks for, else the SDK's dispatcher's answer."""
    refused = await _version_refused(request)
    if refused is not None:
        return refused
    return await dispatcher(state).handle_requests(request)


async def _version_refused(request: Request) -> Response | None:
    try:
        body = await request.json()  # kept by the request: the dispatcher reads it again
    except ValueError:
        return None  # not JSON: the dispatcher answers the parse error
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
        return None  # not a JSON-RPC request: the dispatcher says what is wrong with it
    method = body.get("method")
    if not isinstance(method, str):
        return None
    error = version_refusal(method, asked_version(request))
    if error is None:
        return None
    request_id = body.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        request_id = None  # as the dispatcher does: an id JSON-RPC does not allow is null
    return JSONResponse(build_error_response(request_id, error))


def card_json(card: AgentCard) -> dict[str, Any]:
    """The card as A2A clients read it (with the fields older clients look for)."""
    return agent_card_to_dict(card)
