"""Messages in Letta's shapes: what clients send, and the six message types they read back."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, SerializationInfo, Tag, field_serializer, field_validator

from troupe.schemas.common import InputModel, OutputModel, for_legacy_sdk
from troupe.schemas.images import ImageContent
from troupe.schemas.stop_reasons import StopReasonValue

DEFAULT_MAX_STEPS = 50
# An http(s) URL, kept as the text the client sent.
HttpUrlText = Annotated[str, Field(max_length=2048, pattern=r"^https?://[^\s/]+")]
MAX_MAX_STEPS = 1000


class TextContent(InputModel):
    type: Literal["text"] = "text"
    text: str


def _part_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "image" if kind == "image" else "text"


# A part of a user message: text, or (letta-client 1.x) an image.
ContentPart = Annotated[
    Annotated[TextContent, Tag("text")] | Annotated[ImageContent, Tag("image")],
    Discriminator(_part_kind),
]


class MessageCreate(InputModel):
    role: Literal["user", "system"] = "user"
    content: str | list[ContentPart]
    name: str | None = None
    otid: str | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content if isinstance(part, TextContent))

    def images(self) -> list[dict[str, Any]]:
        """The image parts' sources, as sent (JSON)."""
        if isinstance(self.content, str):
            return []
        parts = [p for p in self.content if isinstance(p, ImageContent)]
        return [p.source.model_dump(exclude_none=True) for p in parts]


class ApprovalAnswer(InputModel):
    """One answer in `approvals` (letta-client 1.12.1): an approval or denial of a call
    (`type: "approval"`), or the result of a call the client ran (`type: "tool"`)."""

    type: Literal["approval", "tool"] = "approval"
    tool_call_id: str = Field(min_length=1)
    approve: bool | None = None
    reason: str | None = None
    tool_return: str | list[TextContent] | None = None
    status: Literal["success", "error"] = "success"
    stdout: list[str] | None = None
    stderr: list[str] | None = None

    def result_text(self) -> str:
        if isinstance(self.tool_return, list):
            return "\n".join(part.text for part in self.tool_return)
        return self.tool_return or ""


class ApprovalCreate(InputModel):
    """`type: "approval"`: answers to the calls an agent waits on. 1.12.1 sends `approvals`;
    older clients `approval_request_id` (the request message's id, or its call's) with
    `approve` and `reason`, which `approvals` overrides when both are sent."""

    type: Literal["approval"] = "approval"
    approvals: list[ApprovalAnswer] | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None
    otid: str | None = None


class ToolReturnCreate(InputModel):
    """`type: "tool_return"`: results of client-side calls (the same as an approval message
    whose answers are all of `type: "tool"`)."""

    type: Literal["tool_return"] = "tool_return"
    tool_returns: list[ApprovalAnswer]
    otid: str | None = None


def _input_kind(value: Any) -> str:
    """Which input a message is: 1.12.1 may leave `type` out of an approval."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind in {"approval", "tool_return"}:
            return str(kind)
        if kind is None and "tool_returns" in value:
            return "tool_return"
        if kind is None and "role" not in value and {"approvals", "approve"} & set(value):
            return "approval"
        return "message"
    return str(getattr(value, "type", "message") or "message")


InputMessage = Annotated[
    Annotated[MessageCreate, Tag("message")]
    | Annotated[ApprovalCreate, Tag("approval")]
    | Annotated[ToolReturnCreate, Tag("tool_return")],
    Discriminator(_input_kind),
]


class ClientTool(InputModel):
    """A tool the client runs itself, offered to the model for one request."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class MessageRequest(InputModel):
    """Body of POST /v1/agents/{id}/messages (and /stream, /async). 0.1.x sends `messages`;
    1.x may send `input` instead."""

    messages: list[InputMessage] | None = None
    input: str | list[ContentPart] | None = None
    client_tools: list[ClientTool] | None = None
    max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=1, le=MAX_MAX_STEPS)
    streaming: bool = False
    stream_tokens: bool = False
    # Keepalive `ping` events while a stream is quiet (on by default, as Letta's).
    include_pings: bool = True
    # POSTed to when the run ends (the async route; Letta's `callback_url`).
    callback_url: HttpUrlText | None = None
    override_model: str | None = Field(
        default=None, max_length=512, description="This request's model handle (`provider/model`)."
    )
    response_format: dict[str, Any] | None = Field(
        default=None, description="`{type: text | json_object | json_schema, json_schema?}`."
    )
    include_return_message_types: list[str] | None = Field(
        default=None, description="Only these message types in the answer (all when absent)."
    )
    # Streaming: the run goes on if the client leaves; its stream is read back from the store.
    background: bool = False
    # Show a summary the turn writes (an event_message, then a summary_message).
    include_compaction_messages: bool = False

    def answers(self) -> list[ApprovalCreate | ToolReturnCreate]:
        return [m for m in self.messages or [] if not isinstance(m, MessageCreate)]

    def input_messages(self) -> list[MessageCreate]:
        found = [m for m in self.messages or [] if isinstance(m, MessageCreate)]
        if self.input is not None:
            found.append(MessageCreate(role="user", content=self.input))
        return found

    @field_validator("messages")
    @classmethod
    def _some(cls, v: list[Any] | None) -> list[Any] | None:
        if v is not None and not v:
            raise ValueError("send at least one message")
        return v


class _Message(OutputModel):
    id: str
    date: datetime
    name: str | None = None
    otid: str | None = None
    run_id: str | None = None
    step_id: str | None = None
    sender_id: str | None = None
    seq_id: int | None = None


class SystemMessage(_Message):
    message_type: Literal["system_message"] = "system_message"
    content: str


class UserMessage(_Message):
    message_type: Literal["user_message"] = "user_message"
    # Text, or (with images) the parts as sent: text first, then `{type: "image", source}`.
    content: str | list[dict[str, Any]]

    @field_serializer("content")
    def _text_for_old_sdks(self, value: str | list[dict[str, Any]], info: SerializationInfo) -> Any:
        """The 0.1.x SDK reads text parts only: it gets the text."""
        if isinstance(value, list) and for_legacy_sdk(info):
            return "\n".join(str(p.get("text", "")) for p in value if p.get("type") == "text")
        return value


class AssistantMessage(_Message):
    message_type: Literal["assistant_message"] = "assistant_message"
    content: str


class ReasoningMessage(_Message):
    message_type: Literal["reasoning_message"] = "reasoning_message"
    reasoning: str
    source: str = "reasoner_model"


class ToolCallBody(OutputModel):
    name: str
    arguments: str
    tool_call_id: str


class ToolCallMessage(_Message):
    """One model response's tool calls: `tool_call` is the first, `tool_calls` all of them
    (Letta shows parallel calls as one message)."""

    message_type: Literal["tool_call_message"] = "tool_call_message"
    tool_call: ToolCallBody
    tool_calls: list[ToolCallBody] = Field(default_factory=list)


class _Returned(OutputModel):
    """What one tool call gave back."""

    tool_return: str
    status: Literal["success", "error"]
    tool_call_id: str
    stdout: list[str] | None = None
    stderr: list[str] | None = None


class ToolReturn(_Returned):
    type: Literal["tool"] = "tool"


class ApprovalRequestMessage(_Message):
    """A call that waits for a human's approval (or for the client to run it)."""

    message_type: Literal["approval_request_message"] = "approval_request_message"
    tool_call: ToolCallBody
    tool_calls: list[ToolCallBody] | None = None


class ApprovalResponseMessage(_Message):
    message_type: Literal["approval_response_message"] = "approval_response_message"
    approvals: list[dict[str, Any]] | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None


class ToolReturnMessage(_Message, _Returned):
    message_type: Literal["tool_return_message"] = "tool_return_message"
    # The returns of one response's calls (the top-level fields are the first's), as Letta.
    tool_returns: list[ToolReturn] = Field(default_factory=list)


class CompactionStats(OutputModel):
    trigger: str
    context_window: int
    messages_count_before: int
    messages_count_after: int
    context_tokens_before: int | None = None
    context_tokens_after: int | None = None


class SummaryMessage(_Message):
    """A summary a turn wrote of the history leaving its context (shown when the request
    asks for `include_compaction_messages`; not a message of the history)."""

    message_type: Literal["summary_message"] = "summary_message"
    summary: str
    compaction_stats: CompactionStats | None = None


class EventMessage(_Message):
    """That a compaction happened, before its summary (as `SummaryMessage`)."""

    message_type: Literal["event_message"] = "event_message"
    event_type: Literal["compaction"] = "compaction"
    event_data: dict[str, Any] = Field(default_factory=dict)


LettaMessage = Annotated[
    SystemMessage
    | UserMessage
    | AssistantMessage
    | ReasoningMessage
    | ToolCallMessage
    | ToolReturnMessage
    | ApprovalRequestMessage
    | ApprovalResponseMessage
    | SummaryMessage
    | EventMessage,
    Field(discriminator="message_type"),
]

# Letta's `MessageRole`, which the 0.1.x SDK filters a run's messages by. Letta stores a row
# per model turn with its role; troupe a row per part, each shown as one message type: these
# are the types a role's rows make. Letta writes its summaries as user messages, and no rows
# of the older "function" role.
MessageRole = Literal["user", "assistant", "system", "tool", "function"]
MESSAGE_TYPES_OF_ROLE: dict[str, tuple[str, ...]] = {
    "user": ("user_message", "approval_response_message", "summary_message", "event_message"),
    "system": ("system_message",),
    "assistant": (
        "assistant_message",
        "reasoning_message",
        "tool_call_message",
        "approval_request_message",
    ),
    "tool": ("tool_return_message",),
    "function": (),
}


class StopReason(OutputModel):
    message_type: Literal["stop_reason"] = "stop_reason"
    stop_reason: StopReasonValue


class UsageStatistics(OutputModel):
    message_type: Literal["usage_statistics"] = "usage_statistics"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    total_tokens: int = 0
    step_count: int = 0


class LettaResponse(OutputModel):
    messages: list[LettaMessage]
    stop_reason: StopReason
    usage: UsageStatistics
    error: str | None = Field(
        default=None,
        description="troupe: why the turn failed, when its stop_reason fails the run "
        "(`error`, `llm_api_error`, `invalid_llm_response`, `max_tokens_exceeded`).",
    )
    run_id: str | None = Field(default=None, description="troupe: the run of this turn.")
    trace_id: str | None = Field(
        default=None,
        description="troupe: the trace of this request; GET /v1/traces/{trace_id} shows "
        "everything it caused across agents.",
    )


RunStatus = Literal["created", "running", "completed", "failed", "cancelled"]


class Run(OutputModel):
    id: str
    agent_id: str
    status: RunStatus
    stop_reason: str | None = None
    error: str | None = None
    parent_run_id: str | None = None
    trace_id: str | None = None
    metadata: dict[str, Any] | None = None
    usage: UsageStatistics | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    total_duration_ns: int | None = None
    callback_url: str | None = None
    callback_sent_at: datetime | None = None
    callback_status_code: int | None = None
    callback_error: str | None = None
    conversation_id: str | None = None
