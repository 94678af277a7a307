"""Block rows and their attachment to agents."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.paging import Page, paginate
from troupe.store.tables import AgentBlockRow, AgentRow, BlockRow, utcnow


async def get_block(session: AsyncSession, block_id: str) -> BlockRow:
    row = await session.get(BlockRow, block_id)
    if row is None:
        raise NotFound(f"block {block_id!r} not found")
    return row


async def blocks_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, BlockRow]:
    if not ids:
        return {}
    rows = (await session.execute(select(BlockRow).where(BlockRow.id.in_(ids)))).scalars()
    return {row.id: row for row in rows}


async def list_blocks(
    session: AsyncSession, page: Page, *, label: str | None = None, name: str | None = None
) -> list[BlockRow]:
    stmt = select(BlockRow)
    if label is not None:
        stmt = stmt.where(BlockRow.label == label)
    if name is not None:
        stmt = stmt.where(BlockRow.template_name == name)
    stmt, reverse = paginate(stmt, BlockRow, page)
    rows = list((await session.execute(stmt)).scalars())
    return rows[::-1] if reverse else rows


async def blocks_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[BlockRow]]:
    """Every block of each agent, in attachment order, in one query."""
    stmt = (
        select(AgentBlockRow.agent_id, BlockRow)
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id)
        .where(AgentBlockRow.agent_id.in_(agent_ids))
        .order_by(AgentBlockRow.agent_id, AgentBlockRow.position)
    )
    result: dict[str, list[BlockRow]] = defaultdict(list)
    for agent_id, block in await session.execute(stmt):
        result[agent_id].append(block)
    return result


async def agent_block_by_label(session: AsyncSession, agent_id: str, label: str) -> BlockRow:
    stmt = (
        select(BlockRow)
        .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
        .where(AgentBlockRow.agent_id == agent_id, AgentBlockRow.label == label)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"agent {agent_id!r} has no memory block labelled {label!r}")
    return row


async def labels_of_agent(session: AsyncSession, agent_id: str) -> dict[str, str]:
    """label -> block id for one agent."""
    stmt = select(AgentBlockRow.label, AgentBlockRow.block_id).where(
        AgentBlockRow.agent_id == agent_id
    )
    return dict((await session.execute(stmt)).all())


async def next_block_position(session: AsyncSession, agent_id: str) -> int:
    stmt = select(func.coalesce(func.max(AgentBlockRow.position), -1)).where(
        AgentBlockRow.agent_id == agent_id
    )
    return int((await session.execute(stmt)).scalar_one()) + 1


async def agents_holding_block(session: AsyncSession, block_id: str) -> list[AgentRow]:
    stmt = (
        select(AgentRow)
        .join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
        .where(AgentBlockRow.block_id == block_id)
        .order_by(AgentRow.created_at, AgentRow.id)
    )
    return list((await session.execute(stmt)).scalars())


async def page_of_agents_holding_block(
    session: AsyncSession, block_id: str, page: Page
) -> list[AgentRow]:
    """One page of the agents a block is attached to, for `GET /v1/blocks/{id}/agents`."""
    stmt = (
        select(AgentRow)
        .join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
        .where(AgentBlockRow.block_id == block_id)
    )
    stmt, reverse = paginate(stmt, AgentRow, page)
    rows = list((await session.execute(stmt)).scalars())
    return rows[::-1] if reverse else rows


async def agent_ids_holding_blocks(
    session: AsyncSession, block_ids: Sequence[str]
) -> dict[str, list[str]]:
    stmt = select(AgentBlockRow.block_id, AgentBlockRow.agent_id).where(
        AgentBlockRow.block_id.in_(block_ids)
    )
    result: dict[str, list[str]] = defaultdict(list)
    for block_id, agent_id in await session.execute(stmt):
        result[block_id].append(agent_id)
    return result


async def block_for_edit(session: AsyncSession, agent_id: str, label: str) -> BlockRow | None:
    """The agent's block of that label as stored now (re-read, even if the session holds it)."""
    stmt = (
        select(BlockRow)
        .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
        .where(AgentBlockRow.agent_id == agent_id, AgentBlockRow.label == label)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_value_if_version(
    session: AsyncSession, block_id: str, version: int, value: str
) -> bool:
    """Store a new value only if the block is still at `version` (then at version + 1);
    False when a concurrent edit got there first."""
    result = await session.execute(
        update(BlockRow)
        .where(BlockRow.id == block_id, BlockRow.version == version)
        .values(value=value, version=version + 1, updated_at=utcnow())
    )
    return getattr(result, "rowcount", 0) == 1
