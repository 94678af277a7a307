"""Agents: create, list, modify, delete, and what is attached to them (blocks, tools, tags)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.prompt import DEFAULT_SYSTEM_PROMPT
from troupe.agent.tool_rules import parse_rules
from troupe.errors import Conflict, InvalidInput, NotFound
from troupe.ids import new_id
from troupe.llm.handles import DEFAULT_MODEL, handle_for, llm_config_for
from troupe.schemas.agents import MAX_HANDLE_LENGTH, AgentCreate, AgentState, AgentUpdate
from troupe.schemas.blocks import Block, BlockUpdate
from troupe.schemas.common import EmbeddingConfig, LLMConfig
from troupe.schemas.tools import Tool
from troupe.services.blocks import apply_block_update, new_block_row
from troupe.services.views import agent_view, block_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import blocks as block_store
from troupe.store import tools as tool_store
from troupe.store.agents import AgentFilter
from troupe.store.inserts import insert_rows
from troupe.store.paging import Page
from troupe.store.tables import (
    AgentBlockRow,
    AgentRow,
    AgentTagRow,
    AgentToolRow,
    BlockRow,
    ToolRow,
    utcnow,
)
from troupe.tools.builtin import BASE_TOOL_NAMES, MULTI_AGENT_TOOL_NAMES

ItemT = TypeVar("ItemT", Block, Tool)


@dataclass(frozen=True)
class Include:
    """Which relations an agent listing carries (tags always do: they are small)."""

    tools: bool = True
    blocks: bool = True


def _model_settings(
    model: str | None, llm_config: LLMConfig | None, context_window: int | None
) -> tuple[str, LLMConfig]:
    if model:
        return model, llm_config_for(model, context_window=context_window)
    if llm_config:
        handle = handle_for(llm_config)
        if len(handle) > MAX_HANDLE_LENGTH:
            raise InvalidInput(
                f"model handle {handle[:40]!r}... is longer than {MAX_HANDLE_LENGTH} characters; "
                "shorten `llm_config.model`"
            )
        config = llm_config.model_copy(update={"handle": handle})
        if context_window:
            config.context_window = context_window
        return handle, config
    return DEFAULT_MODEL, llm_config_for(DEFAULT_MODEL, context_window=context_window)


def _embedding_settings(handle: str | None, config: EmbeddingConfig | None) -> EmbeddingConfig:
    if config is not None:
        return config
    if handle:
        provider, _, model = handle.partition("/")
        return EmbeddingConfig(
            embedding_endpoint_type=provider, embedding_model=model or handle, handle=handle
        )
    return EmbeddingConfig(handle="local/keyword")


def _ordered_unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def _resolve_tools(
    session: AsyncSession, *, ids: Sequence[str], names: Sequence[str]
) -> list[ToolRow]:
    """Tools named or id'd by a request, in the order asked, or NotFound naming what is missing."""
    rows = await tool_store.tools_by_ids_or_names(session, ids=ids, names=names)
    by_id = {r.id: r for r in rows}
    by_name = {r.name: r for r in rows}
    missing = [n for n in names if n not in by_name] + [i for i in ids if i not in by_id]
    if missing:
        raise NotFound(
            f"tools not found: {', '.join(missing)}; create them with POST /v1/tools/ first"
        )
    ordered = [by_name[n] for n in names] + [by_id[i] for i in ids]
    return list({t.id: t for t in ordered}.values())


async def _resolve_blocks(session: AsyncSession, ids: Sequence[str]) -> list[BlockRow]:
    found = await block_store.blocks_by_ids(session, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"blocks not found: {', '.join(missing)}")
    return [found[i] for i in ids]


def _check_unique_labels(blocks: Sequence[BlockRow]) -> None:
    seen: dict[str, str] = {}
    for block in blocks:
        if block.label in seen and seen[block.label] != block.id:
            raise Conflict(
                f"two memory blocks are labelled {block.label!r} ({seen[block.label]} and "
                f"{block.id}); an agent holds one block per label"
            )
        seen[block.label] = block.id


def _check_rules_name_its_tools(rules: list[dict[str, Any]], tools: Sequence[ToolRow]) -> None:
    """A rule naming a tool the agent lacks would stall every turn (nothing allowed to call)
    until max_steps: refuse it when the rules or the tools are set."""
    names = {t.name for t in tools}
    unknown = sorted(
        {n for rule in parse_rules(rules) for n in (rule.tool_name, *rule.children)} - names
    )
    if unknown:
        raise InvalidInput(
            f"tool_rules name tools this agent does not have: {', '.join(unknown)}; "
            f"its tools: {', '.join(sorted(names)) or 'none'}"
        )


async def create_agent(db: Database, spec: AgentCreate) -> AgentState:
    model, llm_config = _model_settings(spec.model, spec.llm_config, spec.context_window_limit)
    embedding = _embedding_settings(spec.embedding, spec.embedding_config)
    parse_rules(spec.tool_rules)  # refuse malformed rules now, not mid-turn
    tool_names = _ordered_unique(
        [
            *(BASE_TOOL_NAMES if spec.include_base_tools else ()),
            *spec.tools,
            *(MULTI_AGENT_TOOL_NAMES if spec.include_multi_agent_tools else ()),
        ]
    )
    new_blocks = [new_block_row(b) for b in spec.memory_blocks]
    agent = AgentRow(
        id=new_id("agent"),
        name=spec.name or f"agent-{uuid.uuid4().hex[:8]}",
        description=spec.description,
        system=spec.system if spec.system is not None else DEFAULT_SYSTEM_PROMPT,
        agent_type=spec.agent_type,
        model=model,
        llm_config=llm_config.model_dump(),
        embedding_config=embedding.model_dump(),
        tool_rules=spec.tool_rules,
        metadata_=spec.metadata,
    )
    tags = spec.tags or []
    async with db.write() as session:
        tools = await _resolve_tools(session, ids=_ordered_unique(spec.tool_ids), names=tool_names)
        _check_rules_name_its_tools(spec.tool_rules, tools)
        blocks = new_blocks + await _resolve_blocks(session, _ordered_unique(spec.block_ids))
        _check_unique_labels(blocks)
        await insert_rows(session, [agent, *new_blocks])
        await _insert_links(session, agent.id, blocks=blocks, tools=tools, tags=tags)
    bundle = agent_store.AgentBundle(agent, sorted(tags), tools, blocks)
    return agent_view(bundle)


async def _insert_links(
    session: AsyncSession,
    agent_id: str,
    *,
    blocks: Sequence[BlockRow] = (),
    tools: Sequence[ToolRow] = (),
    tags: Sequence[str] = (),
    block_start: int = 0,
    tool_start: int = 0,
) -> None:
    if blocks:
        await session.execute(
            insert(AgentBlockRow),
            [
                {
                    "agent_id": agent_id,
                    "block_id": b.id,
                    "label": b.label,
                    "position": block_start + i,
                }
                for i, b in enumerate(blocks)
            ],
        )
    if tools:
        await session.execute(
            insert(AgentToolRow),
            [
                {"agent_id": agent_id, "tool_id": t.id, "position": tool_start + i}
                for i, t in enumerate(tools)
            ],
        )
    if tags:
        await session.execute(
            insert(AgentTagRow), [{"agent_id": agent_id, "tag": tag} for tag in tags]
        )


async def get_agent(db: Database, agent_id: str) -> AgentState:
    async with db.read() as session:
        return agent_view(await agent_store.load_bundle(session, agent_id))


async def list_agents(
    db: Database, page: Page, filters: AgentFilter, include: Include = Include()
) -> list[AgentState]:
    async with db.read() as session:
        rows = await agent_store.list_agent_rows(session, page, filters)
        bundles = await agent_store.load_bundles(
            session, rows, tools=include.tools, blocks=include.blocks
        )
    cache: dict[str, Tool] = {}
    return [agent_view(b, cache) for b in bundles]


async def update_agent(db: Database, agent_id: str, changes: AgentUpdate) -> AgentState:
    fields = changes.model_fields_set
    async with db.write() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        for name in ("name", "description", "system"):
            if name in fields and (name == "description" or getattr(changes, name) is not None):
                setattr(agent, name, getattr(changes, name))
        if "metadata" in fields:
            agent.metadata_ = changes.metadata
        if changes.tool_rules is not None:
            parse_rules(changes.tool_rules)
            agent.tool_rules = changes.tool_rules
        if changes.model or changes.llm_config:
            model, config = _model_settings(changes.model, changes.llm_config, None)
            agent.model, agent.llm_config = model, config.model_dump()
        if changes.embedding_config is not None:
            agent.embedding_config = changes.embedding_config.model_dump()
        if changes.tags is not None:
            await session.execute(delete(AgentTagRow).where(AgentTagRow.agent_id == agent_id))
            await _insert_links(session, agent_id, tags=changes.tags)
        if changes.block_ids is not None:
            blocks = await _resolve_blocks(session, _ordered_unique(changes.block_ids))
            _check_unique_labels(blocks)
            await session.execute(delete(AgentBlockRow).where(AgentBlockRow.agent_id == agent_id))
            await _insert_links(session, agent_id, blocks=blocks)
        if changes.tool_ids is not None:
            tools = await _resolve_tools(session, ids=_ordered_unique(changes.tool_ids), names=[])
            await session.execute(delete(AgentToolRow).where(AgentToolRow.agent_id == agent_id))
            await _insert_links(session, agent_id, tools=tools)
        agent.updated_at = utcnow()  # links changed too, which the row's own hook cannot see
        await session.flush()
        bundle = await agent_store.load_bundle(session, agent_id)
        if changes.tool_rules is not None or changes.tool_ids is not None:
            _check_rules_name_its_tools(list(agent.tool_rules), bundle.tools)
    return agent_view(bundle)


async def delete_agent(db: Database, agent_id: str) -> None:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await session.execute(delete(AgentRow).where(AgentRow.id == agent_id))


async def attach_block(db: Database, agent_id: str, block_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        block = await block_store.get_block(session, block_id)
        labels = await block_store.labels_of_agent(session, agent_id)
        holder = labels.get(block.label)
        if holder is not None and holder != block.id:
            raise Conflict(
                f"agent {agent_id!r} already has a block labelled {block.label!r} ({holder}); "
                "detach it first or relabel one of them"
            )
        if holder is None:
            position = await block_store.next_block_position(session, agent_id)
            await _insert_links(session, agent_id, blocks=[block], block_start=position)
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def detach_block(db: Database, agent_id: str, block_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await block_store.get_block(session, block_id)
        await session.execute(
            delete(AgentBlockRow).where(
                AgentBlockRow.agent_id == agent_id, AgentBlockRow.block_id == block_id
            )
        )
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def attach_tool(db: Database, agent_id: str, tool_id: str) -> AgentState:
    async with db.write() as session:
        bundle = await agent_store.load_bundle(session, agent_id)
        tool = await tool_store.get_tool(session, tool_id)
        if all(t.id != tool.id for t in bundle.tools):
            position = await agent_store.next_tool_position(session, agent_id)
            await _insert_links(session, agent_id, tools=[tool], tool_start=position)
            bundle.tools.append(tool)
    return agent_view(bundle)


async def detach_tool(db: Database, agent_id: str, tool_id: str) -> AgentState:
    async with db.write() as session:
        bundle = await agent_store.load_bundle(session, agent_id)
        await tool_store.get_tool(session, tool_id)
        await session.execute(
            delete(AgentToolRow).where(
                AgentToolRow.agent_id == agent_id, AgentToolRow.tool_id == tool_id
            )
        )
        bundle.tools = [t for t in bundle.tools if t.id != tool_id]
    return agent_view(bundle)


def _page_in_memory(items: list[ItemT], page: Page) -> list[ItemT]:
    """Paging over an agent's short lists (its blocks, its tools), in attachment order."""
    ids = [item.id for item in items]
    start, stop = 0, len(items)
    if page.after:
        start = ids.index(page.after) + 1 if page.after in ids else len(items)
    if page.before:
        stop = ids.index(page.before) if page.before in ids else 0
    window = items[start:stop]
    if page.before and not page.after:
        return window[-page.limit :]
    return window[: page.limit]


async def list_agent_blocks(db: Database, agent_id: str, page: Page) -> list[Block]:
    state = await get_agent(db, agent_id)
    return _page_in_memory(state.blocks, page)


async def list_agent_tools(db: Database, agent_id: str, page: Page) -> list[Tool]:
    state = await get_agent(db, agent_id)
    return _page_in_memory(state.tools, page)


async def get_agent_block(db: Database, agent_id: str, label: str) -> Block:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        return block_view(await block_store.agent_block_by_label(session, agent_id, label))


async def update_agent_block(
    db: Database, agent_id: str, label: str, changes: BlockUpdate
) -> Block:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        row = await block_store.agent_block_by_label(session, agent_id, label)
        await apply_block_update(session, row, changes)
    return block_view(row)
