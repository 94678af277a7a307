"""What one request caused, read back for its trace: the messages of its runs and its
mailbox deliveries (its runs: troupe.store.runs.runs_of_traces)."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import DeliveryRow, MessageRow, StepRow


async def messages_of_runs(session: AsyncSession, run_ids: Sequence[str]) -> list[MessageRow]:
    """Every message of the runs, in the order they were written."""
    stmt = (
        select(MessageRow)
        .where(MessageRow.run_id.in_(run_ids))
        .order_by(MessageRow.created_at, MessageRow.seq)
    )
    return list((await session.execute(stmt)).scalars())


async def deliveries_of_trace(session: AsyncSession, trace_id: str) -> list[DeliveryRow]:
    stmt = (
        select(DeliveryRow).where(DeliveryRow.trace_id == trace_id).order_by(DeliveryRow.created_at)
    )
    return list((await session.execute(stmt)).scalars())


async def steps_of_run(session: AsyncSession, run_id: str) -> list[StepRow]:
    """The run's steps in the order they were taken."""
    stmt = select(StepRow).where(StepRow.run_id == run_id).order_by(StepRow.created_at)
    return list((await session.execute(stmt)).scalars())
