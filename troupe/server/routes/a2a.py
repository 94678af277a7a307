"""A2A, per agent: its card at the well-known paths under /a2a/agents/{agent_id}/, and its
JSON-RPC endpoint at /a2a/agents/{agent_id} (the SDK's dispatcher: 1.0 and 0.3 method
names, each under its own A2A-Version; SSE for streams). The endpoint needs the API key
when one is set; the card does not, as A2A discovery expects: it is how a client learns that
it needs one. Kept out of the OpenAPI document: A2A clients discover it from the cards."""

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from troupe.a2a.cards import agent_card
from troupe.server.deps import DatabaseDep, require_api_key
from troupe.server.routing import APIRouter

router = APIRouter(prefix="/a2a/agents/{agent_id}", tags=["a2a"], include_in_schema=False)


@router.get("/.well-known/agent-card.json")
@router.get("/.well-known/agent.json")  # where A2A 0.2 clients look
async def get_agent_card(request: Request, db: DatabaseDep, agent_id: str) -> Response:
    from troupe.server import a2a_dispatch  # the SDK's server side, at the first A2A request

    settings = request.app.state.settings
    base_url = settings.public_url or str(request.base_url)
    card = await agent_card(db, agent_id, base_url, secured=bool(settings.api_key))
    return JSONResponse(a2a_dispatch.card_json(card))


@router.post("", dependencies=[Depends(require_api_key)])
async def call_agent(request: Request, agent_id: str) -> Response:
    """One JSON-RPC request: SendMessage, SendStreamingMessage, GetTask, CancelTask (or
    message/send, message/stream, tasks/get, tasks/cancel)."""
    from troupe.server import a2a_dispatch  # see get_agent_card

    return await a2a_dispatch.answer(request.app.state, request)
