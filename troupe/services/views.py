"""Rows to wire models: the one place storage shapes turn into Letta's shapes."""

from troupe.schemas.agents import AgentState, Memory
from troupe.schemas.blocks import Block
from troupe.schemas.common import EmbeddingConfig, LLMConfig
from troupe.schemas.tools import Tool
from troupe.store.agents import AgentBundle
from troupe.store.tables import BlockRow, ToolRow


def block_view(row: BlockRow) -> Block:
    return Block(
        id=row.id,
        label=row.label,
        value=row.value,
        limit=row.char_limit,
        description=row.description,
        metadata=row.metadata_,
        read_only=row.read_only,
        is_template=row.is_template,
        name=row.template_name,
        template_name=row.template_name,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def tool_view(row: ToolRow) -> Tool:
    return Tool(
        id=row.id,
        name=row.name,
        description=row.description,
        tags=list(row.tags),
        source_code=row.source_code,
        source_type=row.source_type,
        json_schema=row.json_schema,
        tool_type=row.tool_type,
        return_char_limit=row.return_char_limit,
        metadata=row.metadata_,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def agent_view(bundle: AgentBundle, tool_cache: dict[str, Tool] | None = None) -> AgentState:
    """`tool_cache` lets a page of agents share one Tool object per distinct tool."""
    agent = bundle.agent
    cache = tool_cache if tool_cache is not None else {}
    tools = [cache.get(t.id) or cache.setdefault(t.id, tool_view(t)) for t in bundle.tools]
    blocks = [block_view(b) for b in bundle.blocks]
    embedding = EmbeddingConfig.model_validate(agent.embedding_config)
    return AgentState(
        id=agent.id,
        name=agent.name,
        description=agent.description,
        system=agent.system,
        agent_type=agent.agent_type,
        model=agent.model,
        embedding=embedding.handle,
        llm_config=LLMConfig.model_validate(agent.llm_config),
        embedding_config=embedding,
        tags=bundle.tags,
        tools=tools,
        tool_rules=list(agent.tool_rules),
        memory=Memory(blocks=blocks),
        blocks=blocks,
        metadata=agent.metadata_,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )
