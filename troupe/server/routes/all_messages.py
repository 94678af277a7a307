"""/v1/messages: messages across agents (list, one, search); and the 0.1.x edit of one of an
agent's messages."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.message_search import MessageEdit, MessageSearchRequest, MessageSearchResult
from troupe.schemas.messages import LettaMessage
from troupe.server.deps import DatabaseDep, ExecutorDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import all_messages as service

router = APIRouter(tags=["messages"])


@router.get("/v1/messages", response_model=list[LettaMessage])
async def list_messages(
    db: DatabaseDep,
    page: PageDep,
    include_return_message_types: Annotated[list[str] | None, Query()] = None,
    conversation_id: str | None = None,
) -> Response:
    """Every agent's messages (a conversation's with `conversation_id`), newest first unless
    `order=asc`."""
    listed = await service.list_all(db, page, include_return_message_types, conversation_id)
    return json_response(listed)


@router.post("/v1/messages/search", response_model=list[MessageSearchResult])
async def search_messages(db: DatabaseDep, body: MessageSearchRequest) -> Response:
    """Messages of every agent (or `agent_id`'s) holding any of the query's words. Search by
    meaning (`search_mode` vector or hybrid) uses the text search until an embedder is set."""
    return json_response(await service.search(db, body))


@router.get("/v1/messages/{message_id}", response_model=list[LettaMessage])
async def retrieve_message(db: DatabaseDep, message_id: str) -> Response:
    return json_response(await service.get_one(db, message_id))


@router.patch("/v1/agents/{agent_id}/messages/{message_id}", response_model=LettaMessage)
async def modify_message(
    executor: ExecutorDep, agent_id: str, message_id: str, body: MessageEdit
) -> Response:
    return json_response(await service.edit(executor, agent_id, message_id, body))
