"""Conversations (letta-client 1.x `client.conversations`): an agent's histories beside its
default one."""

from datetime import datetime
from typing import Any

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel
from troupe.schemas.messages import MessageRequest
from troupe.schemas.runs import RunStreamRequest
from troupe.schemas.summaries import CompactionSettings

# The path id that names an agent's default history (with `agent_id` beside it).
DEFAULT_CONVERSATION = "default"


class Conversation(OutputModel):
    id: str
    agent_id: str
    archived: bool = False
    archived_at: datetime | None = None
    context_window_limit: int | None = None
    created_at: datetime | None = None
    description: str | None = None
    last_message_at: datetime | None = None
    model: str | None = None
    model_settings: dict[str, Any] | None = None
    summary: str | None = None
    updated_at: datetime | None = None
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    in_context_message_ids: list[str] | None = None


class _Settings(InputModel):
    context_window_limit: int | None = Field(default=None, ge=1)
    description: str | None = None
    model: str | None = Field(default=None, max_length=512)
    model_settings: dict[str, Any] | None = None
    summary: str | None = None


class ConversationCreate(_Settings):
    """Body of POST /v1/conversations (the agent comes as the `agent_id` query parameter)."""

    hidden: bool = False


class ConversationUpdate(_Settings):
    """Body of PATCH /v1/conversations/{id}: the fields sent change, the others stay."""

    archived: bool | None = None
    last_message_at: datetime | None = None


class ConversationMessageRequest(MessageRequest):
    """Body of POST /v1/conversations/{id}/messages: an agent's message request, streamed
    unless `streaming: false`; `agent_id` names the agent of the `default` conversation."""

    streaming: bool = True
    agent_id: str | None = None


class ConversationCompaction(InputModel):
    """Body of POST /v1/conversations/{id}/compact and .../recompile."""

    agent_id: str | None = None
    compaction_settings: CompactionSettings | None = None


class ConversationStreamRequest(RunStreamRequest):
    """Body of POST /v1/conversations/{id}/stream: resume the stream of the conversation's
    newest background run in progress; or of the conversation's run `run_id`, or the one
    that stored the input message sent with `otid` (running or ended, as Letta)."""

    agent_id: str | None = None
    run_id: str | None = None
    otid: str | None = None
