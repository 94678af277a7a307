"""/v1/conversations (letta-client 1.x `client.conversations`): an agent's histories beside
its default one, each with its own messages and runs, all sharing the agent's memory."""

from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import StreamingResponse

from troupe.schemas.conversations import (
    Conversation,
    ConversationCompaction,
    ConversationCreate,
    ConversationMessageRequest,
    ConversationStreamRequest,
    ConversationUpdate,
)
from troupe.schemas.messages import LettaMessage, LettaResponse
from troupe.schemas.summaries import CompactionResponse
from troupe.server.deps import (
    ConversationPageDep,
    DatabaseDep,
    ExecutorDep,
    PageDep,
    ReturnMessageTypes,
)
from troupe.server.responses import json_response, turn_response
from troupe.server.routing import APIRouter
from troupe.server.sse import SSE_HEADERS, event_stream, turn_headers
from troupe.services import conversation_turns as turns
from troupe.services import conversations as service
from troupe.store.conversations import ArchiveStatus, ConversationFilter, ConversationOrder

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

AgentQuery = Annotated[str | None, Query(description="The agent of the `default` conversation.")]


@router.post("", response_model=Conversation)
async def create_conversation(
    db: DatabaseDep, agent_id: str, body: ConversationCreate | None = None
) -> Conversation:
    """A new, empty conversation of the agent (`agent_id` is a query parameter)."""
    return await service.create(db, agent_id, body or ConversationCreate())


@router.get("", response_model=list[Conversation])
async def list_conversations(
    db: DatabaseDep,
    page: PageDep,
    agent_id: str | None = None,
    archive_status: ArchiveStatus = "unarchived",
    summary_search: str | None = None,
    order_by: ConversationOrder = "created_at",
) -> list[Conversation]:
    """Newest first unless `order=asc`, by `order_by`; hidden conversations are left out."""
    found = ConversationFilter(agent_id, archive_status, summary_search, order_by)
    return await service.list_all(db, found, page)


@router.get("/{conversation_id}", response_model=Conversation)
async def retrieve_conversation(db: DatabaseDep, conversation_id: str) -> Conversation:
    return await service.get(db, conversation_id)


@router.patch("/{conversation_id}", response_model=Conversation)
async def update_conversation(
    db: DatabaseDep, conversation_id: str, body: ConversationUpdate
) -> Conversation:
    return await service.update(db, conversation_id, body)


@router.delete("/{conversation_id}")
async def delete_conversation(executor: ExecutorDep, conversation_id: str) -> None:
    """The conversation and its history (the agent and its other histories stay)."""
    await service.delete(executor, conversation_id)


@router.post("/{conversation_id}/fork", response_model=Conversation)
async def fork_conversation(
    db: DatabaseDep,
    conversation_id: str,
    agent_id: AgentQuery = None,
    message_id: str | None = None,
    hidden: bool = False,
) -> Conversation:
    """A new conversation with a copy of this one's history (up to `message_id`)."""
    return await service.fork(
        db, conversation_id, agent_id=agent_id, message_id=message_id, hidden=hidden
    )


@router.post("/{conversation_id}/messages", response_model=LettaResponse)
async def send_conversation_message(
    executor: ExecutorDep, conversation_id: str, body: ConversationMessageRequest
) -> Response:
    """A turn in the conversation: SSE unless `streaming: false` (then the whole answer)."""
    if not body.streaming:
        return turn_response(await turns.send(executor, conversation_id, body))
    run, events = await turns.stream(executor, conversation_id, body)
    headers = turn_headers(run, body)
    return StreamingResponse(event_stream(events), media_type="text/event-stream", headers=headers)


@router.get("/{conversation_id}/messages", response_model=list[LettaMessage])
async def list_conversation_messages(
    db: DatabaseDep,
    conversation_id: str,
    page: ConversationPageDep,
    agent_id: AgentQuery = None,
    types: ReturnMessageTypes = None,
) -> Response:
    return json_response(await turns.list_messages(db, conversation_id, agent_id, page, types))


@router.post("/{conversation_id}/stream", response_class=StreamingResponse)
async def resume_conversation_stream(
    executor: ExecutorDep, conversation_id: str, body: ConversationStreamRequest | None = None
) -> StreamingResponse:
    """Reconnect to the conversation's background run in progress."""
    events = await turns.resume_stream(
        executor, conversation_id, body or ConversationStreamRequest()
    )
    return StreamingResponse(
        event_stream(events), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/{conversation_id}/cancel")
async def cancel_conversation(
    executor: ExecutorDep, conversation_id: str, agent_id: AgentQuery = None
) -> dict[str, str]:
    """Cancel the conversation's runs in progress; each cancelled run id with "cancelled"."""
    return await turns.cancel(executor, conversation_id, agent_id)


@router.post("/{conversation_id}/compact", response_model=CompactionResponse)
async def compact_conversation(
    executor: ExecutorDep, conversation_id: str, body: ConversationCompaction | None = None
) -> CompactionResponse:
    """Summarise the conversation's oldest history now."""
    return await turns.compact(executor, conversation_id, body)


@router.post("/{conversation_id}/recompile", response_model=str)
async def recompile_conversation(
    executor: ExecutorDep,
    conversation_id: str,
    body: ConversationCompaction | None = None,
    dry_run: bool = False,
) -> str:
    """The system prompt the conversation's next step sends (compiled afresh at every step,
    so `dry_run` changes nothing)."""
    return await turns.recompile(executor, conversation_id, body)
