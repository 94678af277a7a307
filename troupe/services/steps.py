"""Reading steps, their messages and timings, and recording feedback on them."""

from datetime import datetime

from troupe.agent.deps import LoopDeps
from troupe.errors import InvalidInput
from troupe.schemas.messages import LettaMessage
from troupe.schemas.steps import Step, StepFeedback, StepMetrics
from troupe.services.views import message_view, step_view
from troupe.store import step_rows
from troupe.store.paging import Page
from troupe.store.step_rows import StepFilter

MS = 1_000_000  # nanoseconds


def step_filter(
    *,
    agent_id: str | None,
    model: str | None,
    feedback: str | None,
    has_feedback: bool | None,
    tags: list[str] | None,
    trace_ids: list[str] | None,
    start_date: str | None,
    end_date: str | None,
) -> StepFilter:
    return StepFilter(
        agent_id=agent_id,
        model=model,
        feedback=feedback,
        has_feedback=has_feedback,
        tags=tuple(tags or ()),
        trace_ids=tuple(trace_ids or ()),
        start=_when(start_date, "start_date"),
        end=_when(end_date, "end_date"),
    )


async def list_steps(rt: LoopDeps, page: Page, where: StepFilter) -> list[Step]:
    async with rt.db.read() as session:
        rows = await step_rows.list_steps(session, page, where)
        traces = await step_rows.trace_ids_of_runs(session, sorted({r.run_id for r in rows}))
    return [step_view(r, traces.get(r.run_id)) for r in rows]


async def get_step(rt: LoopDeps, step_id: str) -> Step:
    async with rt.db.read() as session:
        row = await step_rows.get_step(session, step_id)
        traces = await step_rows.trace_ids_of_runs(session, [row.run_id])
    return step_view(row, traces.get(row.run_id))


async def step_messages(rt: LoopDeps, step_id: str, page: Page) -> list[LettaMessage]:
    async with rt.db.read() as session:
        step = await step_rows.get_step(session, step_id)
        return [message_view(r) for r in await step_rows.step_messages(session, step, page)]


async def step_metrics(rt: LoopDeps, step_id: str) -> StepMetrics:
    await rt.steps.flush_timings()  # this process's store times not written yet
    async with rt.db.read() as session:
        row = await step_rows.get_step(session, step_id)
    step_ns = None
    if row.started_at is not None:
        step_ns = int((row.created_at - row.started_at).total_seconds() * 1e9)
        step_ns += (row.store_ms or 0) * MS
    return StepMetrics(
        id=row.id,
        run_id=row.run_id,
        job_id=row.run_id,
        agent_id=row.agent_id,
        step_start_ns=int(row.started_at.timestamp() * 1e9) if row.started_at else None,
        llm_request_ns=row.model_ms * MS,
        tool_execution_ns=None if row.tools_ms is None else row.tools_ms * MS,
        step_ns=step_ns,
        model_ms=row.model_ms,
        tools_ms=row.tools_ms,
        store_ms=row.store_ms,
    )


async def give_feedback(rt: LoopDeps, step_id: str, body: StepFeedback) -> Step:
    async with rt.db.write() as session:
        await step_rows.get_step(session, step_id)
        await step_rows.record_feedback(session, step_id, body.feedback, body.tags)
    return await get_step(rt, step_id)


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date and time, not {value!r}") from None
