"""The A2A SDK's side of the A2A routes: its JSON-RPC dispatcher over troupe's agents, and
its form of an agent card. Imported by the first A2A request, not at start-up: the SDK's
server package brings grpc and the SDK's client with it (0.7 s of CPU and 24 MB on a 2-core
machine), which a server that nobody reaches over A2A never needs."""

from typing import Any

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types.a2a_pb2 import AgentCard
from starlette.datastructures import State
from starlette.requests import Request

from troupe.a2a.handler import AgentTasks


class _AgentContext(DefaultServerCallContextBuilder):
    """The SDK's call context, plus the agent of the endpoint's path."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["agent_id"] = request.path_params["agent_id"]
        return context


def dispatcher(state: State) -> JsonRpcDispatcher:
    """The app's dispatcher, made by the first request that needs it."""
    if getattr(state, "a2a_dispatcher", None) is None:
        tasks = AgentTasks(state.services.executor, state.settings.messaging())
        state.a2a_dispatcher = JsonRpcDispatcher(
            tasks, context_builder=_AgentContext(), enable_v0_3_compat=True
        )
    made: JsonRpcDispatcher = state.a2a_dispatcher
    return made


def card_json(card: AgentCard) -> dict[str, Any]:
    """The card as A2A clients read it (with the fields older clients look for)."""
    return agent_card_to_dict(card)
