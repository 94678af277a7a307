"""Summaries of agents' evicted history (see troupe.agent.compaction). An agent's current
summary is its row with the highest `through_seq`; older rows are kept as they were."""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.history_tables import SummaryRow


async def current_summaries(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, SummaryRow]:
    """Each agent's newest summary, for the agents that have one (one statement)."""
    if not agent_ids:
        return {}
    newest = (
        select(SummaryRow.agent_id, func.max(SummaryRow.through_seq).label("seq"))
        .where(SummaryRow.agent_id.in_(agent_ids))
        .group_by(SummaryRow.agent_id)
        .subquery()
    )
    stmt = select(SummaryRow).join(
        newest,
        (SummaryRow.agent_id == newest.c.agent_id) & (SummaryRow.through_seq == newest.c.seq),
    )
    return {row.agent_id: row for row in (await session.execute(stmt)).scalars()}


async def add_summary(session: AsyncSession, row: SummaryRow) -> None:
    session.add(row)
    await session.flush()


async def delete_summaries(session: AsyncSession, agent_id: str) -> None:
    await session.execute(delete(SummaryRow).where(SummaryRow.agent_id == agent_id))
