"""Tools: Python functions an agent may call, described to the model by a JSON schema."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, ConfigDict, Field

from troupe.schemas.common import InputModel, Metadata, OutputModel

DEFAULT_RETURN_CHAR_LIMIT = 6000
MAX_SOURCE_CHARS = 200_000

ToolType = Literal[
    "custom", "letta_core", "letta_memory_core", "letta_multi_agent_core", "letta_builtin"
]
MCP_TOOL_TYPE = "external_mcp"  # a tool of an MCP server (see troupe.services.mcp_tools)


class ToolCreate(InputModel):
    source_code: str = Field(max_length=MAX_SOURCE_CHARS)
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    source_type: Literal["python"] = "python"
    json_schema: dict[str, Any] | None = Field(
        default=None, description="Overrides the schema derived from the signature and docstring."
    )
    args_json_schema: dict[str, Any] | None = Field(
        default=None,
        description="The JSON schema of the arguments as one model (a pydantic model's "
        "`model_json_schema()`): the tool's parameters come from it, and its models exist, "
        "by name, where the tool runs.",
    )
    return_char_limit: int = Field(default=DEFAULT_RETURN_CHAR_LIMIT, ge=1, le=1_000_000)
    metadata: Metadata | None = Field(
        default=None,
        validation_alias=AliasChoices("metadata", "metadata_"),
        description="Free-form JSON kept with the tool.",
    )
    default_requires_approval: bool | None = Field(
        default=None, description="Attached to an agent, its calls wait for a human's approval."
    )


class ToolUpdate(InputModel):
    source_code: str | None = Field(default=None, max_length=MAX_SOURCE_CHARS)
    description: str | None = None
    tags: list[str] | None = None
    json_schema: dict[str, Any] | None = None
    # Sent as null, it is dropped (the parameters come from the source again).
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int | None = Field(default=None, ge=1, le=1_000_000)
    # Both SDK lines send (and read) a tool's metadata as `metadata_`, Letta's field name.
    metadata: Metadata | None = Field(
        default=None, validation_alias=AliasChoices("metadata", "metadata_")
    )
    default_requires_approval: bool | None = None


class Tool(OutputModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    name: str
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    source_code: str | None = None
    source_type: str = "python"
    json_schema: dict[str, Any]
    args_json_schema: dict[str, Any] | None = None
    tool_type: str = "custom"
    return_char_limit: int = DEFAULT_RETURN_CHAR_LIMIT
    metadata: Metadata | None = Field(default=None, serialization_alias="metadata_")
    default_requires_approval: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AgentToolRun(InputModel):
    """Body of POST /v1/agents/{id}/tools/{tool_name}/run (letta-client 1.x)."""

    args: dict[str, Any] = Field(default_factory=dict)


class ToolRunFromSource(InputModel):
    """Body of POST /v1/tools/run (letta-client 0.1.x): try a function out in the sandbox."""

    source_code: str = Field(max_length=MAX_SOURCE_CHARS)
    args: dict[str, Any] = Field(default_factory=dict)
    env_vars: dict[str, str] | None = None
    name: str | None = None
    source_type: str | None = None
    args_json_schema: dict[str, Any] | None = None
    json_schema: dict[str, Any] | None = None


class ToolExecutionResult(OutputModel):
    """What running a tool directly gave (letta-client 1.x `ToolExecutionResult`)."""

    status: Literal["success", "error"]
    func_return: Any = None
    stdout: list[str] | None = None
    stderr: list[str] | None = None
    agent_state: Any = None
    sandbox_config_fingerprint: str | None = None
