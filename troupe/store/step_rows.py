"""Reading steps (one model call of a run each) and recording feedback on them."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.lookup import row_or_not_found
from troupe.store.messages import BY_SEQUENCE
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import MessageRow, RunRow, StepRow


@dataclass(frozen=True)
class StepFilter:
    agent_id: str | None = None
    model: str | None = None
    feedback: str | None = None
    has_feedback: bool | None = None
    tags: tuple[str, ...] = ()
    trace_ids: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


async def get_step(session: AsyncSession, step_id: str) -> StepRow:
    return await row_or_not_found(session, StepRow, step_id, "step")


async def list_steps(session: AsyncSession, page: Page, where: StepFilter) -> list[StepRow]:
    stmt = select(StepRow)
    if where.agent_id is not None:
        stmt = stmt.where(StepRow.agent_id == where.agent_id)
    if where.model is not None:
        stmt = stmt.where(StepRow.model == where.model)
    if where.feedback is not None:
        stmt = stmt.where(StepRow.feedback == where.feedback)
    if where.has_feedback is not None:
        has = StepRow.feedback.is_not(None)
        stmt = stmt.where(has if where.has_feedback else StepRow.feedback.is_(None))
    if where.start is not None:
        stmt = stmt.where(StepRow.created_at >= where.start)
    if where.end is not None:
        stmt = stmt.where(StepRow.created_at < where.end)
    if where.trace_ids:
        traced = select(RunRow.id).where(RunRow.trace_id.in_(where.trace_ids))
        stmt = stmt.where(StepRow.run_id.in_(traced))
    rows = await fetch_page(session, stmt, by_creation(StepRow), page)
    if where.tags:  # a JSON list: matched here, alike on both databases
        rows = [r for r in rows if set(where.tags) <= set(r.tags or [])]
    return rows


async def trace_ids_of_runs(session: AsyncSession, run_ids: list[str]) -> dict[str, str | None]:
    stmt = select(RunRow.id, RunRow.trace_id).where(RunRow.id.in_(run_ids))
    return {run_id: trace_id for run_id, trace_id in (await session.execute(stmt)).all()}


async def step_messages(session: AsyncSession, step: StepRow, page: Page) -> list[MessageRow]:
    # By the run first: messages are indexed by run, and a run has few steps.
    stmt = select(MessageRow).where(MessageRow.run_id == step.run_id, MessageRow.step_id == step.id)
    return await fetch_page(session, stmt, BY_SEQUENCE, page)


async def record_feedback(
    session: AsyncSession, step_id: str, feedback: str | None, tags: list[str] | None
) -> None:
    values: dict[str, object] = {"feedback": feedback}
    if tags is not None:
        values["tags"] = tags
    await session.execute(update(StepRow).where(StepRow.id == step_id).values(**values))
