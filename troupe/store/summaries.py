"""Summaries of agents' evicted history (see troupe.agent.compaction). A history's current
summary is its row with the highest `through_seq`; older rows are kept as they were."""

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.history_tables import SummaryRow
from troupe.store.messages import History


async def current_summaries(
    session: AsyncSession, histories: Sequence[History]
) -> dict[History, SummaryRow]:
    """Each history's newest summary, for the histories that have one (one statement)."""
    if not histories:
        return {}
    keys = (SummaryRow.agent_id, SummaryRow.conversation_id)
    newest = (
        select(*keys, func.max(SummaryRow.through_seq).label("seq"))
        .where(SummaryRow.agent_id.in_({h.agent_id for h in histories}))
        .group_by(*keys)
        .subquery()
    )
    stmt = select(SummaryRow).join(
        newest,
        (SummaryRow.agent_id == newest.c.agent_id)
        & (SummaryRow.conversation_id == newest.c.conversation_id)
        & (SummaryRow.through_seq == newest.c.seq),
    )
    found = {
        History(row.agent_id, row.conversation_id): row
        for row in (await session.execute(stmt)).scalars()
    }
    return {history: found[history] for history in histories if history in found}


async def add_summary(session: AsyncSession, row: SummaryRow) -> None:
    session.add(row)
    await session.flush()


async def delete_summaries(session: AsyncSession, history: History) -> None:
    await session.execute(
        delete(SummaryRow).where(
            SummaryRow.agent_id == history.agent_id,
            SummaryRow.conversation_id == history.conversation_id,
        )
    )
