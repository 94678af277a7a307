"""Agents: the AgentState shape both SDK lines read, and what they send to create or modify."""

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from troupe.schemas.blocks import Block, BlockCreate
from troupe.schemas.common import (
    EmbeddingConfig,
    InputModel,
    LLMConfig,
    Metadata,
    OutputModel,
    metadata_field,
)
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


class AgentCreate(InputModel):
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    system: str | None = None
    agent_type: str = "memgpt_agent"
    tags: list[str] | None = None
    memory_blocks: list[BlockCreate] = Field(default_factory=list)
    block_ids: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list, description="Tool names to attach.")
    tool_ids: list[str] = Field(default_factory=list)
    tool_rules: list[dict[str, Any]] = Field(default_factory=list)
    include_base_tools: bool = True
    include_multi_agent_tools: bool = False
    model: str | None = Field(default=None, description="Model handle, `provider/model`.")
    llm_config: LLMConfig | None = None
    embedding: str | None = None
    embedding_config: EmbeddingConfig | None = None
    context_window_limit: int | None = Field(default=None, ge=1)
    metadata: Metadata | None = metadata_field()

    _tags = field_validator("tags")(check_tags)


class AgentUpdate(InputModel):
    name: str | None = Field(default=None, max_length=255)
    description: str | None = None
    system: str | None = None
    tags: list[str] | None = None
    block_ids: list[str] | None = None
    tool_ids: list[str] | None = None
    tool_rules: list[dict[str, Any]] | None = None
    model: str | None = None
    llm_config: LLMConfig | None = None
    embedding_config: EmbeddingConfig | None = None
    metadata: Metadata | None = None

    _tags = field_validator("tags")(check_tags)


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
    embedding_config: EmbeddingConfig
    tags: list[str]
    tools: list[Tool]
    tool_rules: list[dict[str, Any]]
    memory: Memory
    blocks: list[Block]
    sources: list[Any] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    identity_ids: list[str] = Field(default_factory=list)
    metadata: Metadata | None = None
    created_at: datetime
    updated_at: datetime
