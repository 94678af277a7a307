"""The one model protocol. Types here are provider-neutral: each provider's adapter converts
them to its vendor's wire format itself, and nothing else does."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from troupe.errors import TroupeError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    """A tool as offered to the model: its JSON schema's name, description and parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text as the model produced it: it may not parse


@dataclass(frozen=True)
class ImagePart:
    """An image a user message shows the model: by URL (http(s) or `data:`), or base64 data."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> "ImagePart":
        """From an image source as a client sent it (`{url}` or `{data, media_type}`)."""
        return cls(source.get("url"), source.get("data"), source.get("media_type"))

    def as_url(self) -> str:
        """A URL for providers that take one: the data as a `data:` URL."""
        return self.url or f"data:{self.media_type};base64,{self.data}"


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str | None = None
    images: tuple[ImagePart, ...] = ()  # on role="user": images shown with the text
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # on role="tool": the call this answers
    name: str | None = None  # on role="tool": the tool's name


@dataclass(frozen=True)
class ModelRequest:
    messages: list[ChatMessage]  # messages[0] is the system prompt
    tools: list[ToolSpec]  # only the tools the model may call at this step
    # "auto": a tool call or plain text; "required": some tool call; a tool name: that tool.
    tool_choice: str = "auto"
    max_tokens: int | None = None
    temperature: float | None = None
    # The agent's model settings (Letta's `model_settings`), for the providers that take them.
    parallel_tool_calls: bool | None = None
    reasoning_effort: str | None = None
    thinking_budget: int | None = None  # Anthropic's extended thinking, in tokens
    response_format: dict[str, Any] | None = None  # OpenAI's `response_format` object
    cache_key: str | None = None  # e.g. the agent id: lets a local model reuse a prompt prefix


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ModelResponse:
    content: str | None = None  # free text (inner thoughts, or a plain reply)
    tool_calls: tuple[ToolCall, ...] = ()
    reasoning: str | None = None  # a provider's separate reasoning channel, when it has one
    usage: Usage = field(default_factory=Usage)
    # The model stopped at its output limit (OpenAI's finish_reason `length`, Anthropic's
    # stop_reason `max_tokens`): what it wrote is cut short.
    cut_short: bool = False


class Model(Protocol):
    """Anything that answers a `ModelRequest`. Implementations are safe to share between
    concurrent agent steps."""

    handle: str

    async def complete(self, request: ModelRequest) -> ModelResponse: ...


@dataclass(frozen=True)
class Delta:
    """A piece of a model's answer as the provider streamed it: text of its `content` or
    `reasoning`, or of the arguments of its tool call number `call` (`call_id` and `name`
    come with the call's first piece)."""

    kind: Literal["content", "reasoning", "arguments"]
    text: str
    call: int = 0
    call_id: str | None = None
    name: str | None = None


DeltaSink = Callable[[Delta], Awaitable[None]]


class StreamingModel(Model, Protocol):
    """A model whose provider can stream its answer: `complete_streaming` hands each piece to
    `sink` as it arrives and returns the same `ModelResponse` `complete` would have."""

    async def complete_streaming(self, request: ModelRequest, sink: DeltaSink) -> ModelResponse: ...


class ModelError(TroupeError):
    """A model call failed for good: provider adapters raise it after their SDK's own retries
    with backoff (429, 5xx, timeouts), and the turn ends with stop reason `llm_api_error`
    (Letta's, for a provider call that failed)."""


class InvalidModelAnswer(ModelError):
    """The provider answered, but with nothing that reads as a model's answer (not JSON, no
    choices): the turn ends with stop reason `invalid_llm_response`, as Letta's does."""


class ContextOverflow(ModelError):
    """The provider refused the prompt as longer than the model's context window: the turn
    ends with stop reason `error`, as Letta's does once summarising has not made it fit."""


class ModelNotConfigured(TroupeError):
    """The handle names a provider that cannot be reached as configured (e.g. no API key)."""
