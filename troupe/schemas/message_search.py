"""Messages across agents: Letta's search request and result shapes, and the edit of one
stored message (0.1.x)."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel
from troupe.schemas.messages import TextContent
from troupe.schemas.search_limits import MAX_SEARCH_QUERY_CHARS

SearchMode = Literal["vector", "fts", "hybrid"]
# What a search finds: the words of users, agents and the system (not tool calls).
SEARCHED_TYPES = ("system_message", "user_message", "reasoning_message", "assistant_message")


class MessageSearchRequest(InputModel):
    """Body of POST /v1/messages/search."""

    query: str = Field(min_length=1, max_length=MAX_SEARCH_QUERY_CHARS)
    agent_id: str | None = None
    conversation_id: str | None = None
    search_mode: SearchMode = "hybrid"
    limit: int = Field(default=50, ge=1, le=1000)
    start_date: datetime | None = None
    end_date: datetime | None = None


class MessageSearchResult(OutputModel):
    """One found message with its agent (Letta's `*MessageListResult`): `content`, or
    `reasoning` for a reasoning message."""

    message_type: str
    message_id: str
    agent_id: str | None = None
    conversation_id: str | None = None
    created_at: datetime
    content: str | None = None
    reasoning: str | None = None


class MessageEdit(InputModel):
    """Body of PATCH /v1/agents/{id}/messages/{message_id} (0.1.x `UpdateUserMessage`,
    `UpdateSystemMessage`, `UpdateAssistantMessage`, `UpdateReasoningMessage`)."""

    message_type: (
        Literal["user_message", "system_message", "assistant_message", "reasoning_message"] | None
    ) = None
    content: str | list[TextContent] | None = None
    reasoning: str | None = None

    def sends_text(self) -> bool:
        return self.content is not None or self.reasoning is not None

    def text_for(self, message_type: str) -> str | None:
        """The new text of a message of that type: a reasoning message's is `reasoning`,
        every other's `content`. The SDKs' update types send no `message_type`, so the field
        is what says which part of a turn an edit means (Letta kept a turn's reasoning and
        reply in one row; troupe keeps each part apart, under ids of their own)."""
        if message_type == "reasoning_message":
            return self.reasoning
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content
