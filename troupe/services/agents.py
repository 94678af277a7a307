"""Agents: create, read, list, modify, delete. What is attached to one afterwards (blocks,
tools) is troupe.services.attachments."""

import uuid
from dataclasses import dataclass
from typing import Any

from troupe.agent.prompt import default_system_prompt
from troupe.agent.tool_rules import parse_rules
from troupe.ids import new_id
from troupe.llm.handles import parse_handle
from troupe.runs.executor import RunExecutor
from troupe.schemas.agents import AgentCreate, AgentState, AgentUpdate
from troupe.schemas.common import EmbeddingConfig, LLMConfig
from troupe.schemas.summaries import CompactionSettings
from troupe.schemas.tools import Tool
from troupe.services import sleeptime
from troupe.services.agent_files import attach_folders, replace_folders
from troupe.services.agent_parts import (
    check_unique_labels,
    id_and_label,
    initial_messages,
    link_identities,
    ordered_unique,
    resolve_blocks,
    resolve_tools,
)
from troupe.services.agent_settings import embedding_settings, model_settings, with_model_settings
from troupe.services.approvals import with_approval_rules
from troupe.services.blocks import new_block_row
from troupe.services.embedding_change import change_embedding, differs
from troupe.services.in_context import keep_in_context
from troupe.services.views import NO_EMBEDDING, agent_view
from troupe.store import Database, context_ids
from troupe.store import agent_variables as variable_store
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import messages as message_store
from troupe.store.agents import AgentFilter
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import AgentRow, utcnow
from troupe.tools.agent_types import base_tool_names
from troupe.tools.archival_memory import config_of
from troupe.tools.registry import ToolRegistry


@dataclass(frozen=True)
class Include:
    """Which relations an agent listing carries (tags always do: they are small)."""

    tools: bool = True
    blocks: bool = True
    secrets: bool = True  # the agents' variables for their tools


def _new_agent_row(spec: AgentCreate) -> AgentRow:
    model, llm_config = model_settings(spec.model, spec.llm_config, spec.context_window_limit)
    llm_config = with_model_settings(llm_config, spec.model_settings, spec.response_format)
    embedding = embedding_settings(spec.embedding, spec.embedding_config)
    return AgentRow(
        id=new_id("agent"),
        name=spec.name or f"agent-{uuid.uuid4().hex[:8]}",
        description=spec.description,
        system=spec.system if spec.system is not None else default_system_prompt(spec.agent_type),
        agent_type=spec.agent_type,
        model=model,
        llm_config=llm_config.model_dump(),
        embedding_config=embedding.model_dump() if embedding else NO_EMBEDDING,
        tool_rules=spec.tool_rules,
        metadata_=spec.metadata,
        compaction_settings=_settings_json(spec.compaction_settings),
        memory_variables=spec.memory_variables,
    )


async def create_agent(db: Database, registry: ToolRegistry, spec: AgentCreate) -> AgentState:
    """`registry`: the built-in tools, whose default sets `include_base_tools` and
    `include_multi_agent_tools` attach. With `enable_sleeptime`, its sleep-time agent too."""
    state = await _create_agent(db, registry, spec)
    if spec.enable_sleeptime:
        return await _switch_sleeptime(db, registry, state, on=True)
    return state


async def _switch_sleeptime(
    db: Database, registry: ToolRegistry, state: AgentState, *, on: bool
) -> AgentState:
    """Give the agent a sleep-time agent, or take it away (nothing if it is so already)."""
    if on == state.enable_sleeptime:
        return state
    if on:
        sleeper = await _create_agent(db, registry, sleeptime.sleeper_spec(state))
        await sleeptime.pair(db, state.id, sleeper.id)
    else:
        await sleeptime.unpair(db, state.id)
    return await get_agent(db, state.id)


async def _create_agent(db: Database, registry: ToolRegistry, spec: AgentCreate) -> AgentState:
    agent = _new_agent_row(spec)
    parse_rules(spec.tool_rules)  # refuse malformed rules now, not mid-turn
    tool_names = ordered_unique(
        [
            *(base_tool_names(registry, spec.agent_type) if spec.include_base_tools else ()),
            *spec.tools,
            *(registry.default_names("multi_agent") if spec.include_multi_agent_tools else ()),
        ]
    )
    new_blocks = [new_block_row(b) for b in spec.memory_blocks]
    tags = spec.tags or []
    variables = variable_store.new_variable_rows(agent.id, spec.tool_variables() or {})
    async with db.write() as session:
        tools = await resolve_tools(session, ids=ordered_unique(spec.tool_ids), names=tool_names)
        agent.tool_rules = with_approval_rules(list(spec.tool_rules), tools)
        blocks = new_blocks + await resolve_blocks(session, ordered_unique(spec.block_ids))
        check_unique_labels(blocks)
        await agent_store.insert_agent(
            session,
            agent,
            new_blocks,
            blocks=id_and_label(blocks),
            tool_ids=[t.id for t in tools],
            tags=tags,
            variables=variables,
        )
        identity_ids = ordered_unique(spec.identity_ids or [])
        if identity_ids:  # a new agent has none to unlink
            await link_identities(session, agent.id, identity_ids)
        initial = initial_messages(spec.initial_message_sequence or [])
        await message_store.append_messages(session, History(agent.id), initial, last_seq=0)
        in_context = (
            await context_ids.in_context_ids(session, [History(agent.id)]) if initial else {}
        )
        folder_ids = ordered_unique([*spec.folder_ids, *spec.source_ids])
        if folder_ids:  # their files shown, the file tools attached: read it all again
            await attach_folders(session, agent.id, folder_ids)
        if folder_ids or identity_ids:  # identities shown whole, with their other links
            return agent_view(await agent_store.load_bundle(session, agent.id))
    bundle = agent_store.AgentBundle(
        agent,
        sorted(tags),
        tools,
        blocks,
        identity_ids=identity_ids,
        variables=sorted(variables, key=lambda v: v.key),
        message_ids=in_context.get(History(agent.id), []),
    )
    return agent_view(bundle)


async def get_agent(db: Database, agent_id: str) -> AgentState:
    async with db.read() as session:
        return agent_view(await agent_store.load_bundle(session, agent_id))


async def list_agents(
    db: Database, page: Page, filters: AgentFilter, include: Include = Include()
) -> list[AgentState]:
    async with db.read() as session:
        rows = await agent_store.list_agent_rows(session, page, filters)
        bundles = await agent_store.load_bundles(
            session, rows, tools=include.tools, blocks=include.blocks, variables=include.secrets
        )
    cache: dict[str, Tool] = {}
    return [agent_view(b, cache) for b in bundles]


def _apply_settings(agent: AgentRow, changes: AgentUpdate) -> None:
    """The PATCH's changes to the agent's own columns."""
    fields = changes.model_fields_set
    for name in ("name", "description", "system"):
        if name in fields and (name == "description" or getattr(changes, name) is not None):
            setattr(agent, name, getattr(changes, name))
    if "metadata" in fields:
        agent.metadata_ = changes.metadata
    if changes.tool_rules is not None:
        parse_rules(changes.tool_rules)
        agent.tool_rules = changes.tool_rules
    if changes.model or changes.llm_config:
        model, config = model_settings(changes.model, changes.llm_config, None)
        agent.model, agent.llm_config = model, config.model_dump()
    if changes.model_settings or changes.response_format is not None:
        config = LLMConfig.model_validate(agent.llm_config)
        agent.llm_config = with_model_settings(
            config, changes.model_settings, changes.response_format
        ).model_dump()
    if "compaction_settings" in fields:
        agent.compaction_settings = _settings_json(changes.compaction_settings)


def _settings_json(settings: CompactionSettings | None) -> dict[str, Any] | None:
    """As stored: the fields the request set (unset ones follow the server's defaults)."""
    if settings is None:
        return None
    if settings.model:
        parse_handle(settings.model)  # a clear 422 now, not a failed summary later
    return settings.model_dump(exclude_unset=True)


async def update_agent(
    db: Database,
    agent_id: str,
    changes: AgentUpdate,
    registry: ToolRegistry | None = None,
    *,
    executor: RunExecutor | None = None,
) -> AgentState:
    """`registry` (the built-in tools) is needed to switch `enable_sleeptime` on.
    `message_ids` changes the default history's context (services.in_context) under its
    lock, which `executor` holds, so no turn of the agent runs meanwhile."""
    if changes.message_ids is not None and executor is not None:
        history = History(agent_id)
        async with executor.locks.hold(history):
            try:
                state = await _update_agent(db, agent_id, changes)
            finally:  # the window the process keeps no longer starts where it did
                executor.rt.history.forget(history)
    else:
        state = await _update_agent(db, agent_id, changes)
    if changes.enable_sleeptime is not None and registry is not None:
        return await _switch_sleeptime(db, registry, state, on=changes.enable_sleeptime)
    return state


async def _update_agent(db: Database, agent_id: str, changes: AgentUpdate) -> AgentState:
    embedding = await _new_embedding(db, agent_id, changes)
    async with db.write() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        if changes.message_ids is not None:  # first: a list refused changes nothing
            await keep_in_context(session, History(agent_id), changes.message_ids)
        _apply_settings(agent, changes)
        if embedding is not None:
            agent.embedding_config = embedding.model_dump()
        if changes.tags is not None:
            await attachment_store.replace_tags(session, agent_id, changes.tags)
        if changes.block_ids is not None:
            blocks = await resolve_blocks(session, ordered_unique(changes.block_ids))
            check_unique_labels(blocks)
            await attachment_store.replace_blocks(session, agent_id, id_and_label(blocks))
        if changes.identity_ids is not None:
            await link_identities(session, agent_id, ordered_unique(changes.identity_ids))
        if changes.tool_ids is not None:
            tools = await resolve_tools(session, ids=ordered_unique(changes.tool_ids), names=[])
            await attachment_store.replace_tools(session, agent_id, [t.id for t in tools])
            agent.tool_rules = with_approval_rules(list(agent.tool_rules), tools)
        if changes.folder_ids is not None or changes.source_ids is not None:
            folders = [*(changes.folder_ids or []), *(changes.source_ids or [])]
            await replace_folders(session, agent_id, ordered_unique(folders))
        variables = changes.tool_variables()
        if variables is not None:  # the whole set, as Letta replaces it
            await variable_store.replace_variables(session, agent_id, variables)
        agent.updated_at = utcnow()  # links changed too, which the row's own hook cannot see
        await session.flush()
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def _new_embedding(
    db: Database, agent_id: str, changes: AgentUpdate
) -> EmbeddingConfig | None:
    """The embedding the PATCH asks for, with the agent's archival memory embedded by it
    already (or a clear refusal); None when it asks for no change."""
    if changes.embedding is None and changes.embedding_config is None:
        return None
    new = embedding_settings(changes.embedding, changes.embedding_config)
    if new is None:
        return None
    async with db.read() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
    if differs(config_of(agent), new):
        await change_embedding(db, agent_id, new)
    return new


async def delete_agent(db: Database, agent_id: str) -> None:
    """The agent, and its sleep-time agent if it has one."""
    await sleeptime.unpair(db, agent_id)
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await agent_store.delete_agent(session, agent_id)
