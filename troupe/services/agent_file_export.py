"""Export an agent as an Agent File, with its team: every agent that shares a memory block
or a group with it (and, through them, with theirs), so that the file imports into an empty
server as the same agents sharing the same blocks, in the same groups."""

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.schemas.agent_file import (
    LETTA_REVISION,
    AgentFile,
    AgentSchema,
    BlockSchema,
    ToolSchema,
)
from troupe.services.agent_file_folders import (
    agent_folder_links,
    folder_section,
    load_team_folders,
)
from troupe.services.agent_file_groups import group_schema
from troupe.services.agent_file_mcp import McpLink, load_mcp_links, mcp_section, mcp_tool_metadata
from troupe.services.agent_file_messages import export_history
from troupe.services.agent_file_variables import exported_variables
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import conversations as conversation_store
from troupe.store import groups as group_store
from troupe.store import messages as message_store
from troupe.store.agents import AgentBundle
from troupe.store.groups import GroupBundle
from troupe.store.messages import History
from troupe.store.tables import BlockRow, MessageRow, ToolRow

Row = TypeVar("Row", BlockRow, ToolRow)
MAX_TEAM = 1_000  # agents one file carries: past that, the team is a whole server


class FileIds:
    """The file's own ids ("agent-0", "block-3", ...), one counter per kind, as Letta names
    them; each database id gets one."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._counters: dict[str, itertools.count[int]] = {}

    def of(self, kind: str, own_id: str) -> str:
        if own_id not in self._ids:
            self._ids[own_id] = self.new(kind)
        return self._ids[own_id]

    def new(self, kind: str) -> str:
        """An id for an object that has none of its own to key by (a message turn)."""
        return f"{kind}-{next(self._counters.setdefault(kind, itertools.count()))}"


async def _team(session: AsyncSession, agent_id: str) -> tuple[list[str], list[GroupBundle]]:
    """The agent and every agent linked to it by shared blocks or groups, to a fixed point;
    and those groups."""
    await agent_store.get_agent_row(session, agent_id)  # NotFound for an unknown agent
    team, groups = {agent_id}, dict[str, GroupBundle]()
    while len(team) < MAX_TEAM:
        grown = await attachment_store.agents_sharing_blocks(session, sorted(team))
        for member in sorted(grown - team) + sorted(team):
            for bundle in await group_store.groups_of_agent(session, member):
                groups.setdefault(bundle.group.id, bundle)
        for bundle in groups.values():
            grown.update(bundle.agent_ids)
            grown.update([bundle.group.manager_agent_id] if bundle.group.manager_agent_id else [])
        if grown == team:
            break
        team = grown
    return sorted(team), list(groups.values())


def _history(agent_id: str, asked_for: str, conversation_id: str) -> History:
    """The history an agent of the team is exported with: the conversation asked for, for
    the agent asked for; the default one otherwise."""
    return History(agent_id, conversation_id if agent_id == asked_for else "")


async def export_agent_file(
    db: Database, agent_id: str, *, scrub_messages: bool, conversation_id: str | None = None
) -> AgentFile:
    """`conversation_id`: export that conversation of the agent as its history."""
    ids = FileIds()
    chosen = conversation_id or ""
    async with db.read() as session:
        if chosen:
            conversation = await conversation_store.get_conversation(session, chosen)
            if conversation.agent_id != agent_id:
                raise NotFound(f"agent {agent_id} has no conversation {chosen}")
        team, groups = await _team(session, agent_id)
        rows = await agent_store.agent_rows(session, team)
        rows.sort(key=lambda row: row.id != agent_id)  # the agent asked for comes first
        bundles = await agent_store.load_bundles(session, rows)
        histories = {
            row.id: []
            if scrub_messages
            else await message_store.whole_history(session, _history(row.id, agent_id, chosen))
            for row in rows
        }
        folders = await load_team_folders(session, team)
        tools = _unique(t for x in bundles for t in x.tools)
        links = await load_mcp_links(session, tools)
    agents = [_agent_schema(bundle, ids, histories[bundle.agent.id]) for bundle in bundles]
    for agent, bundle in zip(agents, bundles, strict=True):
        agent.source_ids, agent.files_agents = agent_folder_links(folders, bundle.agent.id, ids.of)
    section = folder_section(folders, ids.of)
    blocks = _unique(b for x in bundles for b in x.blocks)
    exported = {b.id for b in blocks}
    for agent, bundle in zip(agents, bundles, strict=True):
        agent.group_ids = [
            ids.of("group", g.group.id)
            for g in groups
            if g.group.manager_agent_id == bundle.agent.id
        ]
    return AgentFile(
        agents=agents,
        groups=[group_schema(g, ids.of, exported) for g in groups],
        blocks=[_block_schema(b, ids) for b in blocks],
        files=section.files,
        sources=section.sources,
        tools=[_tool_schema(t, ids, links.get(t.id)) for t in tools],
        mcp_servers=mcp_section(links, ids.of),
        metadata={"revision_id": LETTA_REVISION},
        created_at=datetime.now(UTC),
    )


def _unique(rows: Iterable[Row]) -> list[Row]:
    return list({row.id: row for row in rows}.values())


def _agent_schema(bundle: AgentBundle, ids: FileIds, history: list[MessageRow]) -> AgentSchema:
    agent = bundle.agent
    messages = export_history(agent.system, history, lambda: ids.new("message"))
    return AgentSchema(
        id=ids.of("agent", agent.id),
        name=agent.name,
        tool_ids=[ids.of("tool", t.id) for t in bundle.tools],
        source_ids=[],
        block_ids=[ids.of("block", b.id) for b in bundle.blocks],
        tool_rules=agent.tool_rules,
        tags=bundle.tags,
        system=agent.system,
        agent_type=agent.agent_type,
        description=agent.description,
        metadata=agent.metadata_,
        llm_config=agent.llm_config,
        embedding_config=agent.embedding_config or None,
        memory_variables=agent.memory_variables,
        tool_exec_environment_variables=exported_variables(bundle.variables),
        compaction_settings=agent.compaction_settings,
        in_context_message_ids=[m.id for m in messages],
        messages=messages,
    )


def _block_schema(block: BlockRow, ids: FileIds) -> BlockSchema:
    return BlockSchema(
        id=ids.of("block", block.id),
        value=block.value,
        limit=block.char_limit,
        template_name=block.template_name,
        is_template=block.is_template,
        label=block.label,
        read_only=block.read_only,
        description=block.description,
        metadata=block.metadata_ or {},
    )


def _tool_schema(tool: ToolRow, ids: FileIds, link: McpLink | None) -> ToolSchema:
    """`link`: an MCP tool's server, which the tool's metadata names by its file id."""
    return ToolSchema(
        id=ids.of("tool", tool.id),
        tool_type=tool.tool_type,
        description=tool.description,
        source_type=tool.source_type,
        name=tool.name,
        tags=tool.tags,
        source_code=tool.source_code if tool.tool_type == "custom" else None,
        json_schema=tool.json_schema,
        args_json_schema=tool.args_json_schema,
        return_char_limit=tool.return_char_limit,
        default_requires_approval=tool.default_requires_approval,
        metadata_=mcp_tool_metadata(link, ids.of) if link else tool.metadata_,
    )
