"""A2A, per agent: its card at the well-known paths under /a2a/agents/{agent_id}/, and its
JSON-RPC endpoint at /a2a/agents/{agent_id} (the SDK's dispatcher: 1.0 and 0.3 method
names, SSE for streams). The endpoint needs the API key when one is set; the card does
not, as A2A discovery expects: it is how a client learns that it needs one. Kept out of the
OpenAPI document: A2A clients discover it from the cards."""

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from troupe.a2a.cards import agent_card
from troupe.a2a.handler import AgentTasks
from troupe.server.deps import DatabaseDep, require_api_key
from troupe.server.routing import APIRouter

router = APIRouter(prefix="/a2a/agents/{agent_id}", tags=["a2a"], include_in_schema=False)


class _AgentContext(DefaultServerCallContextBuilder):
    """The SDK's call context, plus the agent of the endpoint's path."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["agent_id"] = request.path_params["agent_id"]
        return context


def _dispatcher(request: Request) -> JsonRpcDispatcher:
    state = request.app.state
    if getattr(state, "a2a_dispatcher", None) is None:
        tasks = AgentTasks(state.services.executor, state.settings.messaging())
        state.a2a_dispatcher = JsonRpcDispatcher(
            tasks, context_builder=_AgentContext(), enable_v0_3_compat=True
        )
    dispatcher: JsonRpcDispatcher = state.a2a_dispatcher
    return dispatcher


@router.get("/.well-known/agent-card.json")
@router.get("/.well-known/agent.json")  # where A2A 0.2 clients look
async def get_agent_card(request: Request, db: DatabaseDep, agent_id: str) -> Response:
    settings = request.app.state.settings
    base_url = settings.public_url or str(request.base_url)
    card = await agent_card(db, agent_id, base_url, secured=bool(settings.api_key))
    return JSONResponse(agent_card_to_dict(card))


@router.post("", dependencies=[Depends(require_api_key)])
async def call_agent(request: Request, agent_id: str) -> Response:
    """One JSON-RPC request: SendMessage, SendStreamingMessage, GetTask, CancelTask (or
    message/send, message/stream, tasks/get, tasks/cancel)."""
    return await _dispatcher(request).handle_requests(request)
