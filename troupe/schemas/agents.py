"""Agents: the AgentState shape both SDK lines read, and what they send to create or modify."""

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
)

from troupe.schemas.blocks import Block, BlockCreate
from troupe.schemas.common import (
    MAX_HANDLE_LENGTH,
    EmbeddingConfig,
    InputModel,
    LLMConfig,
    Metadata,
    OutputModel,
    for_legacy_sdk,
    metadata_field,
)
from troupe.schemas.groups import Group
from troupe.schemas.identities import Identity
from troupe.schemas.messages import TextContent
from troupe.schemas.summaries import CompactionSettings
from troupe.schemas.tool_variables import AgentEnvironmentVariable, check_tool_variables
from troupe.schemas.tools import Tool

MAX_TAG_LENGTH = 255


def check_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    cleaned: list[str] = []
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tags must be 1 to {MAX_TAG_LENGTH} characters long")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def check_tool_rules(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The shape of the fields that hold tool names; which rule types exist and what each
    needs is checked by `troupe.agent.tool_rules.parse_rules`."""
    for rule in rules or ():
        children = rule.get("children")
        if children is not None and not _strings(children):
            raise ValueError("a tool rule's `children` is a list of tool names")
        mapping = rule.get("child_output_mapping")
        if mapping is not None and not (
            isinstance(mapping, dict) and _strings(list(mapping.values()))
        ):
            raise ValueError("a tool rule's `child_output_mapping` maps outputs to tool names")
        default = rule.get("default_child")
        if default is not None and not isinstance(default, str):
            raise ValueError("a tool rule's `default_child` is a tool name")
    return rules


def none_as_empty(value: Any) -> Any:
    """Letta's CreateAgent makes these lists Optional: null is "none given", so a script
    passing its own None on (which both SDKs send as null) gets what leaving it out gives."""
    return [] if value is None else value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _chosen_variables(
    secrets: dict[str, str] | None, deprecated: dict[str, str] | None
) -> dict[str, str] | None:
    """`secrets` wins over the deprecated `tool_exec_environment_variables` when both are
    sent, as in Letta; None when neither is (an update then leaves the set alone)."""
    return secrets if secrets is not None else deprecated


class InitialMessage(InputModel):
    """A message of `initial_message_sequence`: the history an agent starts with."""

    role: Literal["user", "system", "assistant"] = "user"
    content: str | list[TextContent]
    name: str | None = Field(default=None, max_length=255)

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content)


class AgentCreate(InputModel):
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    system: str | None = None
    agent_type: str = Field(default="memgpt_agent", max_length=64)
    tags: list[str] | None = None
    memory_blocks: list[BlockCreate] = Field(default_factory=list)
    block_ids: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list, description="Tool names to attach.")
    tool_ids: list[str] = Field(default_factory=list)
    folder_ids: list[str] = Field(default_factory=list, description="Folders to attach.")
    source_ids: list[str] = Field(default_factory=list, description="0.1.x: `folder_ids`.")
    tool_rules: list[dict[str, Any]] = Field(default_factory=list)
    include_base_tools: bool = True
    include_multi_agent_tools: bool = False
    model: str | None = Field(
        default=None, max_length=MAX_HANDLE_LENGTH, description="Model handle, `provider/model`."
    )
    llm_config: LLMConfig | None = None
    embedding: str | None = None
    embedding_config: EmbeddingConfig | None = None
    context_window_limit: int | None = Field(default=None, ge=1)
    model_settings: dict[str, Any] | None = Field(
        default=None, description="letta-client 1.x: temperature, max output tokens, ..."
    )
    response_format: dict[str, Any] | None = None  # 1.x's older spelling of model_settings'
    metadata: Metadata | None = metadata_field()
    compaction_settings: CompactionSettings | None = None
    memory_variables: dict[str, str | None] | None = None
    identity_ids: list[str] | None = None
    enable_sleeptime: bool | None = None  # a paired sleep-time agent edits the memory
    initial_message_sequence: list[InitialMessage] | None = Field(
        default=None, max_length=1000, description="The history the agent starts with."
    )
    secrets: dict[str, str] | None = Field(
        default=None, description="Environment variables for the agent's tools, by name."
    )
    tool_exec_environment_variables: dict[str, str] | None = Field(
        default=None, description="Deprecated name of `secrets` (0.1.x sends this one)."
    )

    _optional_lists = field_validator(
        "memory_blocks",
        "block_ids",
        "tools",
        "tool_ids",
        "folder_ids",
        "source_ids",
        "tool_rules",
        mode="before",
    )(none_as_empty)
    _tags = field_validator("tags")(check_tags)
    _tool_rules = field_validator("tool_rules")(check_tool_rules)
    _variables = field_validator("secrets", "tool_exec_environment_variables")(check_tool_variables)

    def tool_variables(self) -> dict[str, str] | None:
        return _chosen_variables(self.secrets, self.tool_exec_environment_variables)


class AgentUpdate(InputModel):
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    system: str | None = None
    tags: list[str] | None = None
    block_ids: list[str] | None = None
    tool_ids: list[str] | None = None
    folder_ids: list[str] | None = Field(default=None, description="The folders, all of them.")
    source_ids: list[str] | None = Field(default=None, description="0.1.x: `folder_ids`.")
    tool_rules: list[dict[str, Any]] | None = None
    model: str | None = Field(default=None, max_length=MAX_HANDLE_LENGTH)
    llm_config: LLMConfig | None = None
    model_settings: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    embedding_config: EmbeddingConfig | None = None
    embedding: str | None = Field(default=None, max_length=MAX_HANDLE_LENGTH)
    metadata: Metadata | None = None
    compaction_settings: CompactionSettings | None = None
    identity_ids: list[str] | None = None
    enable_sleeptime: bool | None = None
    secrets: dict[str, str] | None = Field(
        default=None, description="All the variables of the agent's tools (replaces the set)."
    )
    tool_exec_environment_variables: dict[str, str] | None = Field(
        default=None, description="Deprecated name of `secrets` (0.1.x sends this one)."
    )
    message_ids: list[str] | None = Field(
        default=None,
        description="The messages in context: the system message, then a newest part of "
        "the current `message_ids` starting at a user or system message (older ones leave "
        "the context, stay stored).",
    )

    _tags = field_validator("tags")(check_tags)
    _tool_rules = field_validator("tool_rules")(check_tool_rules)
    _variables = field_validator("secrets", "tool_exec_environment_variables")(check_tool_variables)

    def tool_variables(self) -> dict[str, str] | None:
        return _chosen_variables(self.secrets, self.tool_exec_environment_variables)


class Memory(OutputModel):
    blocks: list[Block]
    prompt_template: str = ""


class AgentState(OutputModel):
    id: str
    name: str
    description: str | None = None
    system: str
    agent_type: str
    model: str
    embedding: str | None = None
    llm_config: LLMConfig
    # Its provider's settings, made from llm_config (services/model_settings_view.py).
    model_settings: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None  # llm_config's, where 1.x reads it too
    embedding_config: EmbeddingConfig | None = None
    tags: list[str]
    tools: list[Tool]
    tool_rules: list[dict[str, Any]]
    memory: Memory
    blocks: list[Block]
    sources: list[Any] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    identity_ids: list[str] = Field(default_factory=list)
    identities: list[Identity] = Field(default_factory=list)
    metadata: Metadata | None = None
    compaction_settings: CompactionSettings | None = None
    enable_sleeptime: bool = False
    multi_agent_group: Group | None = None  # the group this agent manages (0.1.x, 1.x)
    managed_group: Group | None = None  # 1.x's newer name for it
    secrets: list[AgentEnvironmentVariable] = Field(default_factory=list)
    tool_exec_environment_variables: list[AgentEnvironmentVariable] = Field(
        default_factory=list, description="Deprecated name of `secrets`: the same list."
    )
    created_at: datetime
    updated_at: datetime

    @field_serializer("embedding_config", mode="wrap")
    def _embedding_for_old_sdks(
        self,
        value: EmbeddingConfig | None,
        handler: SerializerFunctionWrapHandler,
        info: SerializationInfo,
    ) -> Any:
        """Null without an embedding (as Letta); the 0.1.x SDK requires a config, and reads
        one that names no model."""
        if value is None and for_legacy_sdk(info):
            value = EmbeddingConfig(handle=None)
        return handler(value)


class AgentActivity(OutputModel):
    """troupe: when an agent last did something (its newest message was written)."""

    agent_id: str
    last_activity_at: datetime


class ApprovalSwitch(InputModel):
    """Body of PATCH /v1/agents/{id}/tools/approval/{tool_name} (letta-client 1.12.1)."""

    requires_approval: bool | None = None
