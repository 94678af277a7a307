"""What an agent's context window holds (0.1.x `GET /v1/agents/{id}/context`), and its
memory variables (0.1.x `GET /v1/agents/{id}/core-memory/variables`)."""

from typing import Any, Literal

from troupe.schemas.common import OutputModel


class TextContent(OutputModel):
    type: Literal["text"] = "text"
    text: str


class FunctionCall(OutputModel):
    name: str
    arguments: str


class ToolCall(OutputModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ContextMessage(OutputModel):
    """A message as the model is shown it (Letta's own `Message` type)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: list[TextContent] | None = None
    agent_id: str
    model: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDefinition(OutputModel):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class FunctionTool(OutputModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class ContextWindowOverview(OutputModel):
    """Token counts are estimated as the context compiler budgets them (4 characters a
    token), so they show what the agent's next step would hold."""

    context_window_size_max: int
    context_window_size_current: int
    num_messages: int
    num_archival_memory: int
    num_recall_memory: int
    num_tokens_external_memory_summary: int
    external_memory_summary: str
    num_tokens_system: int
    system_prompt: str
    num_tokens_core_memory: int
    core_memory: str
    num_tokens_summary_memory: int
    summary_memory: str | None = None
    num_tokens_functions_definitions: int
    functions_definitions: list[FunctionTool] | None = None
    num_tokens_messages: int
    messages: list[ContextMessage]


class MemoryVariables(OutputModel):
    variables: dict[str, str]
