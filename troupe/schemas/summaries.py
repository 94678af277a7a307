"""Summaries of evicted history: Letta's `compaction_settings`, the summarize route's body
and answer, and the reset-messages body."""

from typing import Any, Literal

from pydantic import Field

from troupe.schemas.common import MAX_HANDLE_LENGTH, InputModel, OutputModel

CompactionMode = Literal["all", "sliding_window", "self_compact_all", "self_compact_sliding_window"]
MAX_SUMMARY_PROMPT = 20_000


class CompactionSettings(InputModel):
    """How an agent's evicted history is summarised. `model`: the summariser's handle (None:
    the server's TROUPE_SUMMARY_MODEL, else the agent's own model); `clip_chars`: the longest
    summary kept; `sliding_window_percentage`: the share of the history budget kept in
    context after a summary. The `self_compact_*` modes summarise with the agent's own model."""

    model: str | None = Field(default=None, max_length=MAX_HANDLE_LENGTH)
    model_settings: dict[str, Any] | None = None
    prompt: str | None = Field(default=None, max_length=MAX_SUMMARY_PROMPT)
    prompt_acknowledgement: bool | None = None
    clip_chars: int | None = Field(default=None, ge=1)
    mode: CompactionMode | None = None
    sliding_window_percentage: float | None = Field(default=None, gt=0, lt=1)


class SummarizeRequest(InputModel):
    """POST /v1/agents/{id}/summarize (1.x `messages.compact`)."""

    compaction_settings: CompactionSettings | None = None


class CompactionResponse(OutputModel):
    num_messages_before: int
    num_messages_after: int
    summary: str


class ResetMessagesRequest(InputModel):
    """PATCH /v1/agents/{id}/reset-messages: 1.x sends this body, 0.1.x a query parameter."""

    add_default_initial_messages: bool | None = None
