"""Letta's Agent File (`.af`, format "v2"): one or more agents with the blocks, tools, groups,
MCP servers, files and sources they use, each object named by an id local to the file
("agent-0", "block-1", ...). Fields and their order are Letta's (letta/schemas/agent_file.py),
so a file troupe writes reads like one Letta wrote, and Letta's files read here unchanged.
Unknown fields are ignored: newer Letta exports stay importable."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from troupe.schemas.blocks import MAX_BLOCK_LIMIT
from troupe.schemas.common import InputModel, OutputModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Short = Annotated[str, StringConstraints(max_length=128)]

# The revision Letta stamps on the files its last server wrote.
LETTA_REVISION = "b1c2d3e4f5a6"


class MessageSchema(InputModel):
    """One message in Letta's role form (a model turn), not troupe's one row per part."""

    type: str | None = "message"
    role: Annotated[str, StringConstraints(max_length=32)]
    content: str | list[dict[str, Any]] | None = None
    name: Name | None = None
    otid: Short | None = None
    sender_id: str | None = None
    batch_item_id: str | None = None
    group_id: str | None = None
    id: str
    model: str | None = None
    agent_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: Short | None = None
    tool_returns: list[dict[str, Any]] | None = None
    created_at: datetime | None = None
    approve: bool | None = None
    approval_request_id: str | None = None
    denial_reason: str | None = None
    approvals: list[dict[str, Any]] | None = None


class AgentSchema(InputModel):
    """An agent as Letta's `CreateAgent`, with its file id, messages and links."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    memory_blocks: list[dict[str, Any]] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    tool_ids: list[str] = Field(default_factory=list)
    source_ids: list[str] = Field(default_factory=list)
    folder_ids: list[str] | None = None
    block_ids: list[str] = Field(default_factory=list)
    tool_rules: list[dict[str, Any]] | None = Field(default_factory=list)
    tags: list[Name] | None = Field(default_factory=list)
    system: str | None = None
    agent_type: Annotated[str, StringConstraints(max_length=64)] | None = None
    initial_message_sequence: list[dict[str, Any]] | None = None
    include_base_tools: bool = False
    include_multi_agent_tools: bool = False
    include_base_tool_rules: bool = False
    include_default_source: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = None
    llm_config: dict[str, Any] | None = None
    embedding_config: dict[str, Any] | None = None
    model: str | None = None
    embedding: str | None = None
    model_settings: dict[str, Any] | None = None
    context_window_limit: int | None = None
    embedding_chunk_size: int | None = None
    max_tokens: int | None = None
    max_reasoning_tokens: int | None = None
    enable_reasoner: bool | None = False
    reasoning: bool | None = None
    from_template: str | None = None
    template: bool = False
    project: str | None = None
    tool_exec_environment_variables: dict[str, Any] | None = Field(default_factory=dict)
    secrets: dict[str, Any] | None = None
    memory_variables: dict[str, Any] | None = None
    project_id: str | None = None
    template_id: str | None = None
    base_template_id: str | None = None
    identity_ids: list[str] | None = None
    message_buffer_autoclear: bool = False
    enable_sleeptime: bool | None = False
    response_format: dict[str, Any] | None = None
    timezone: str | None = "UTC"
    max_files_open: int | None = None
    per_file_view_window_char_limit: int | None = None
    hidden: bool | None = None
    parallel_tool_calls: bool | None = None
    compaction_settings: dict[str, Any] | None = None
    id: str
    in_context_message_ids: list[str] = Field(default_factory=list)
    messages: list[MessageSchema] = Field(default_factory=list)
    files_agents: list["FileAgentSchema"] = Field(default_factory=list)
    group_ids: list[str] = Field(default_factory=list)


class GroupSchema(InputModel):
    """A group of the file's agents; `manager_config` carries its manager type."""

    id: str
    agent_ids: list[str]
    description: str = ""
    manager_config: dict[str, Any] = Field(
        default_factory=lambda: {"manager_type": "round_robin", "max_turns": None}
    )
    project_id: str | None = None
    shared_block_ids: list[str] = Field(default_factory=list)
    hidden: bool | None = None


class BlockSchema(InputModel):
    value: str
    limit: int | None = Field(default=None, ge=1, le=MAX_BLOCK_LIMIT)
    project_id: str | None = None
    template_name: Name | None = None
    is_template: bool = False
    template_id: str | None = None
    base_template_id: str | None = None
    deployment_id: str | None = None
    entity_id: str | None = None
    preserve_on_migration: bool | None = False
    label: Name
    read_only: bool = False
    description: str | None = None
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    hidden: bool | None = None
    id: str


class ToolSchema(InputModel):
    id: str
    tool_type: str | None = "custom"
    description: str | None = None
    source_type: str | None = None
    name: Name | None = None
    tags: list[str] | None = Field(default_factory=list)
    source_code: str | None = None
    json_schema: dict[str, Any] | None = None
    args_json_schema: dict[str, Any] | None = None
    return_char_limit: int | None = None
    pip_requirements: list[dict[str, Any]] | None = None
    npm_requirements: list[dict[str, Any]] | None = None
    default_requires_approval: bool | None = None
    enable_parallel_execution: bool | None = False
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    metadata_: dict[str, Any] | None = None


class SourceSchema(InputModel):
    """A folder (Letta's "source"), as Letta's `SourceCreate` with its file id."""

    name: Name
    description: str | None = None
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    embedding: str | None = None
    embedding_chunk_size: int | None = None
    embedding_config: dict[str, Any] | None = None
    id: str


class FileSchema(InputModel):
    """A file of a folder with its extracted text, as Letta's `FileMetadataBase`."""

    source_id: str
    file_name: Name | None = None
    original_file_name: Name | None = None
    file_path: str | None = None
    file_type: Annotated[str, StringConstraints(max_length=128)] | None = None
    file_size: int | None = None
    file_creation_date: str | None = None
    file_last_modified_date: str | None = None
    processing_status: str | None = None
    error_message: str | None = None
    total_chunks: int | None = None
    chunks_embedded: int | None = None
    content: str | None = None
    id: str


class FileAgentSchema(InputModel):
    """What one agent sees of one file (Letta's `FileAgentBase`): open or closed."""

    agent_id: str
    file_id: str
    source_id: str
    file_name: str
    is_open: bool = True
    visible_content: str | None = None
    last_accessed_at: datetime | None = None
    start_line: int | None = None
    end_line: int | None = None
    id: str


class McpServerSchema(InputModel):
    """An MCP server as Letta exports it: never its token, headers or env."""

    id: str
    server_type: str
    server_name: str
    server_url: str | None = None
    stdio_config: dict[str, Any] | None = None
    metadata_: dict[str, Any] | None = None


class AgentFile(InputModel):
    """The whole file. Every list is required, as in Letta's schema: a JSON document without
    them is not an agent file."""

    agents: list[AgentSchema]
    groups: list[GroupSchema]
    blocks: list[BlockSchema]
    files: list[FileSchema]
    sources: list[SourceSchema]
    tools: list[ToolSchema]
    mcp_servers: list[McpServerSchema]
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None


class ImportedAgents(OutputModel):
    """What `POST /v1/agents/import` answers letta-client 1.x."""

    agent_ids: list[str]


AgentSchema.model_rebuild()  # its files_agents name FileAgentSchema, defined after it
