"""Agent rows: created and deleted, found by id, name or tags, and loaded a page at a time
with their tags, tools, blocks and variables in a fixed number of queries (never one per
agent)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import agent_variables, attachments, folders, groups, identities
from troupe.store.context_ids import in_context_ids
from troupe.store.file_tables import FolderRow
from troupe.store.groups import GroupBundle
from troupe.store.identities import LinkedIdentity
from troupe.store.identity_tables import IdentityAgentRow
from troupe.store.inserts import insert_rows
from troupe.store.lookup import row_or_not_found
from troupe.store.messages import History
from troupe.store.paging import Page, by_creation, by_own_value, fetch_page
from troupe.store.tables import AgentRow, AgentTagRow, BlockRow, ToolRow
from troupe.store.variable_tables import AgentVariableRow

AGENTS = cast(Table, AgentRow.__table__)
AGENT_TAGS = cast(Table, AgentTagRow.__table__)


@dataclass
class AgentBundle:
    """An agent and everything the AgentState shape shows with it."""

    agent: AgentRow
    tags: list[str] = field(default_factory=list)
    tools: list[ToolRow] = field(default_factory=list)
    blocks: list[BlockRow] = field(default_factory=list)
    folders: list[FolderRow] = field(default_factory=list)  # Letta's `sources`
    identity_ids: list[str] = field(default_factory=list)
    managed_group: GroupBundle | None = None  # Letta's `multi_agent_group`
    identities: list[LinkedIdentity] = field(default_factory=list)
    variables: list[AgentVariableRow] = field(default_factory=list)  # Letta's `secrets`
    # The default history's messages in context, oldest first (store.context_ids).
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AgentFilter:
    name: str | None = None
    tags: Sequence[str] = ()
    match_all_tags: bool = False
    name_contains: str | None = None  # Letta's `query_text`: part of the name, any case
    identity_id: str | None = None
    identifier_keys: Sequence[str] = ()  # linked to an identity with one of these keys


async def get_agent_row(session: AsyncSession, agent_id: str) -> AgentRow:
    return await row_or_not_found(session, AgentRow, agent_id, "agent")


async def all_agent_ids(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(AgentRow.id))).scalars())


async def agent_rows(session: AsyncSession, agent_ids: Sequence[str]) -> list[AgentRow]:
    """Those of the agents that exist, in creation order."""
    stmt = (
        select(AgentRow)
        .where(AgentRow.id.in_(agent_ids))
        .order_by(AgentRow.created_at, AgentRow.id)
    )
    return list((await session.execute(stmt)).scalars())


async def names_of_agents(session: AsyncSession, agent_ids: Sequence[str]) -> dict[str, str]:
    """id -> name of those of the agents that exist."""
    if not agent_ids:
        return {}
    stmt = select(AgentRow.id, AgentRow.name).where(AgentRow.id.in_(agent_ids))
    return {agent_id: name for agent_id, name in (await session.execute(stmt)).all()}


async def insert_agent(
    session: AsyncSession,
    agent: AgentRow,
    new_blocks: Sequence[BlockRow],
    *,
    blocks: Sequence[tuple[str, str]],
    tool_ids: Sequence[str],
    tags: Sequence[str],
    variables: Sequence[AgentVariableRow] = (),
) -> None:
    """A new agent and its new blocks and variables (one INSERT per table), with what it is
    given attached: `blocks` ((id, label) pairs, new ones included) and tools in order, tags."""
    await insert_rows(session, [agent, *new_blocks, *variables])
    await attachments.attach_blocks(session, agent.id, blocks)
    await attachments.attach_tools(session, agent.id, tool_ids)
    await attachments.add_tags(session, agent.id, tags)


async def delete_agent(session: AsyncSession, agent_id: str) -> None:
    """The agent and, by cascade, what only it owns (attachments, history, runs)."""
    await session.execute(delete(AgentRow).where(AgentRow.id == agent_id))


async def load_bundles(
    session: AsyncSession,
    agents: Sequence[AgentRow],
    *,
    tools: bool = True,
    blocks: bool = True,
    variables: bool = True,
    in_context: bool = True,
) -> list[AgentBundle]:
    """`in_context` False: without `message_ids`, for callers that show no AgentState."""
    ids = [a.id for a in agents]
    if not ids:
        return []
    tags_by_agent: dict[str, list[str]] = defaultdict(list)
    tag_rows = await session.execute(
        select(AgentTagRow.agent_id, AgentTagRow.tag)
        .where(AgentTagRow.agent_id.in_(ids))
        .order_by(AgentTagRow.agent_id, AgentTagRow.tag)
    )
    for agent_id, tag in tag_rows:
        tags_by_agent[agent_id].append(tag)
    tools_by_agent = await attachments.tools_of_agents(session, ids) if tools else {}
    blocks_by_agent = await attachments.blocks_of_agents(session, ids) if blocks else {}
    variables_by_agent = (
        await agent_variables.variables_of_agents(session, ids) if variables else {}
    )
    folders_by_agent = await folders.folders_of_agents(session, ids)
    identities_by_agent = await identities.identities_of_agents(session, ids)
    linked = await identities.identities_by_id(
        session, [i for found in identities_by_agent.values() for i in found]
    )
    managed = await groups.managed_groups(session, ids)
    histories = [History(agent_id) for agent_id in ids]
    context = await in_context_ids(session, histories) if in_context else {}
    return [
        AgentBundle(
            a,
            tags_by_agent[a.id],
            tools_by_agent.get(a.id, []),
            blocks_by_agent.get(a.id, []),
            folders_by_agent.get(a.id, []),
            identities_by_agent.get(a.id, []),
            managed.get(a.id),
            [linked[i] for i in identities_by_agent.get(a.id, []) if i in linked],
            variables_by_agent.get(a.id, []),
            context.get(History(a.id), []),
        )
        for a in agents
    ]


async def load_bundle(
    session: AsyncSession, agent_id: str, *, in_context: bool = True
) -> AgentBundle:
    agent = await get_agent_row(session, agent_id)
    return (await load_bundles(session, [agent], in_context=in_context))[0]


async def list_agent_rows(
    session: AsyncSession, page: Page, filters: AgentFilter
) -> list[AgentRow]:
    stmt = select(AgentRow)
    if filters.name is not None:
        stmt = stmt.where(AgentRow.name == filters.name)
    if filters.name_contains:
        stmt = stmt.where(AgentRow.name.icontains(filters.name_contains, autoescape=True))
    if filters.tags:
        if filters.match_all_tags:
            stmt = stmt.where(_tagged(match_all=filters.tags, match_some=()))
        else:
            stmt = stmt.where(_tagged(match_all=(), match_some=filters.tags))
    for linked in identities.linked_to_identity(
        IdentityAgentRow, filters.identity_id, filters.identifier_keys
    ):
        stmt = stmt.where(AgentRow.id.in_(linked))
    return await fetch_page(session, stmt, by_creation(AgentRow), page)


async def agents_matching_tags(
    session: AsyncSession, match_all: Sequence[str], match_some: Sequence[str]
) -> list[tuple[str, str]]:
    """(id, name) of the agents with every tag of `match_all` and, if given, one of
    `match_some`, in creation order. Core columns: a broadcast's lookup of 100 agents through
    the ORM took longer than recording their 100 runs."""
    stmt = (
        select(AGENTS.c.id, AGENTS.c.name)
        .where(_tagged(match_all=match_all, match_some=match_some))
        .order_by(AGENTS.c.created_at, AGENTS.c.id)
    )
    return [(agent_id, name) for agent_id, name in await session.execute(stmt)]


def _tagged(*, match_all: Sequence[str], match_some: Sequence[str]) -> ColumnElement[bool]:
    """The condition on an agent's id: it has all tags of `match_all` and one of `match_some`
    (an empty list asks nothing)."""
    conditions: list[ColumnElement[bool]] = []
    if match_all:
        wanted = list(dict.fromkeys(match_all))
        having_all = (
            select(AGENT_TAGS.c.agent_id)
            .where(AGENT_TAGS.c.tag.in_(wanted))
            .group_by(AGENT_TAGS.c.agent_id)
            .having(func.count(AGENT_TAGS.c.tag) == len(wanted))
        )
        conditions.append(AGENTS.c.id.in_(having_all))
    if match_some:
        some = select(AGENT_TAGS.c.agent_id).where(AGENT_TAGS.c.tag.in_(list(match_some)))
        conditions.append(AGENTS.c.id.in_(some))
    return and_(true(), *conditions)


async def all_tags(session: AsyncSession, page: Page, *, query_text: str | None) -> list[str]:
    """Every tag in use (containing `query_text`, if given), in alphabetical order."""
    stmt = select(AgentTagRow.tag).distinct()
    if query_text:
        stmt = stmt.where(AgentTagRow.tag.contains(query_text, autoescape=True))
    return await fetch_page(session, stmt, by_own_value(AgentTagRow.tag), page)
