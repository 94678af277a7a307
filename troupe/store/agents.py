"""Agent rows with their tags, tools and blocks, loaded a page at a time in a fixed number
of queries (never one per agent)."""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.blocks import blocks_of_agents
from troupe.store.paging import Page, paginate
from troupe.store.tables import AgentRow, AgentTagRow, AgentToolRow, BlockRow, ToolRow


@dataclass
class AgentBundle:
    """An agent and everything the AgentState shape shows with it."""

    agent: AgentRow
    tags: list[str] = field(default_factory=list)
    tools: list[ToolRow] = field(default_factory=list)
    blocks: list[BlockRow] = field(default_factory=list)


@dataclass(frozen=True)
class AgentFilter:
    name: str | None = None
    tags: Sequence[str] = ()
    match_all_tags: bool = False


async def get_agent_row(session: AsyncSession, agent_id: str) -> AgentRow:
    row = await session.get(AgentRow, agent_id)
    if row is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return row


async def load_bundles(
    session: AsyncSession,
    agents: Sequence[AgentRow],
    *,
    tools: bool = True,
    blocks: bool = True,
) -> list[AgentBundle]:
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
    tools_by_agent = await tools_of_agents(session, ids) if tools else {}
    blocks_by_agent = await blocks_of_agents(session, ids) if blocks else {}
    return [
        AgentBundle(
            a, tags_by_agent[a.id], tools_by_agent.get(a.id, []), blocks_by_agent.get(a.id, [])
        )
        for a in agents
    ]


async def load_bundle(session: AsyncSession, agent_id: str) -> AgentBundle:
    agent = await get_agent_row(session, agent_id)
    return (await load_bundles(session, [agent]))[0]


async def tools_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[ToolRow]]:
    stmt = (
        select(AgentToolRow.agent_id, ToolRow)
        .join(ToolRow, ToolRow.id == AgentToolRow.tool_id)
        .where(AgentToolRow.agent_id.in_(agent_ids))
        .order_by(AgentToolRow.agent_id, AgentToolRow.position)
    )
    result: dict[str, list[ToolRow]] = defaultdict(list)
    for agent_id, tool in await session.execute(stmt):
        result[agent_id].append(tool)
    return result


async def list_agent_rows(
    session: AsyncSession, page: Page, filters: AgentFilter
) -> list[AgentRow]:
    stmt = select(AgentRow)
    if filters.name is not None:
        stmt = stmt.where(AgentRow.name == filters.name)
    if filters.tags:
        wanted = list(dict.fromkeys(filters.tags))
        tagged = select(AgentTagRow.agent_id).where(AgentTagRow.tag.in_(wanted))
        if filters.match_all_tags:
            tagged = tagged.group_by(AgentTagRow.agent_id).having(
                func.count(AgentTagRow.tag) == len(wanted)
            )
        stmt = stmt.where(AgentRow.id.in_(tagged))
    stmt, reverse = paginate(stmt, AgentRow, page)
    rows = list((await session.execute(stmt)).scalars())
    return rows[::-1] if reverse else rows


async def next_tool_position(session: AsyncSession, agent_id: str) -> int:
    stmt = select(func.coalesce(func.max(AgentToolRow.position), -1)).where(
        AgentToolRow.agent_id == agent_id
    )
    return int((await session.execute(stmt)).scalar_one()) + 1


async def all_tags(
    session: AsyncSession, *, after: str | None, limit: int, query_text: str | None
) -> list[str]:
    stmt = select(AgentTagRow.tag).distinct().order_by(AgentTagRow.tag).limit(limit)
    if after:
        stmt = stmt.where(AgentTagRow.tag > after)
    if query_text:
        stmt = stmt.where(AgentTagRow.tag.contains(query_text, autoescape=True))
    return list((await session.execute(stmt)).scalars())


# -- lookups of the cross-agent tools (troupe.messaging) -------------------------------------
# Core columns, not ORM rows: a broadcast's lookup of 100 agents through the ORM took longer
# than recording their 100 runs.
_AGENTS = cast(Table, AgentRow.__table__)
_AGENT_TAGS = cast(Table, AgentTagRow.__table__)


async def agent_names(session: AsyncSession, agent_ids: Collection[str]) -> dict[str, str]:
    """The names of those of `agent_ids` that exist, by id."""
    if not agent_ids:
        return {}
    stmt = select(_AGENTS.c.id, _AGENTS.c.name).where(_AGENTS.c.id.in_(list(agent_ids)))
    return {agent_id: name for agent_id, name in await session.execute(stmt)}


async def agents_matching_tags(
    session: AsyncSession, match_all: Sequence[str], match_some: Sequence[str]
) -> list[tuple[str, str]]:
    """(id, name) of the agents with every tag of `match_all` and, if given, one of
    `match_some`; in a stable order (creation)."""
    stmt = select(_AGENTS.c.id, _AGENTS.c.name)
    if match_all:
        having_all = (
            select(_AGENT_TAGS.c.agent_id)
            .where(_AGENT_TAGS.c.tag.in_(match_all))
            .group_by(_AGENT_TAGS.c.agent_id)
            .having(func.count(_AGENT_TAGS.c.tag) == len(set(match_all)))
        )
        stmt = stmt.where(_AGENTS.c.id.in_(having_all))
    if match_some:
        stmt = stmt.where(
            _AGENTS.c.id.in_(
                select(_AGENT_TAGS.c.agent_id).where(_AGENT_TAGS.c.tag.in_(match_some))
            )
        )
    stmt = stmt.order_by(_AGENTS.c.created_at, _AGENTS.c.id)
    return [(agent_id, name) for agent_id, name in await session.execute(stmt)]
