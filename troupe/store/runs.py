"""Run and step rows."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from troupe.store.group_tables import GroupRunRow
from troupe.store.history_tables import ConversationRow
from troupe.store.inserts import Statement, execute_statements_now, insert_statements
from troupe.store.lookup import row_or_not_found
from troupe.store.messages import BY_SEQUENCE
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.prepared import Prepared
from troupe.store.tables import MessageRow, RunRow, StepRow, utcnow

RUNS = cast(Table, RunRow.__table__)
STEPS = cast(Table, StepRow.__table__)
# A run in one of these states has not ended: it may still be cancelled, and only such a
# run may be given an end (a cancelled run stays cancelled whatever its turn does later).
ACTIVE = ("created", "running")
# Written inline (no bound parameter), so statements that carry it still run as executemany.
_IS_ACTIVE = RUNS.c.status.in_([literal_column(f"'{status}'") for status in ACTIVE])

# Written at every step, so built once (SQLAlchemy then finds their compiled form at once).
# Bound parameters of UPDATE ... VALUES may not share a column's name.
_INSERT_STEP = Prepared(insert(STEPS))
_RECORD_PROGRESS = Prepared(
    update(RUNS)
    .where(RUNS.c.id == bindparam("run_id"))
    .values(usage=bindparam("new_usage"), heartbeat_at=bindparam("now"))
)
_END = (
    update(RUNS)
    .where(RUNS.c.id == bindparam("run_id"), _IS_ACTIVE)
    .values(
        status=bindparam("new_status"),
        stop_reason=bindparam("new_stop_reason"),
        error=bindparam("new_error"),
        completed_at=bindparam("now"),
    )
)
_RECORD_END = Prepared(_END)
_RECORD_STORE_TIME = Prepared(
    update(STEPS)
    .where(STEPS.c.id == bindparam("step_id"))
    .values(store_ms=bindparam("new_store_ms"))
)
_RECORD_END_WITH_USAGE = Prepared(
    _END.values(usage=bindparam("new_usage"), heartbeat_at=bindparam("now"))
)


def insert_runs(connection: Connection, runs: Sequence[RunRow], group_id: str | None) -> None:
    """New runs (`runs.new_runs`), recorded as a group's turns too when `group_id` is given.
    A conversation's run is a message to it: its `last_message_at` moves in the same
    transaction, so a message refused before its run is recorded leaves it as it was."""
    links = [GroupRunRow(run_id=run.id, group_id=group_id) for run in runs] if group_id else []
    execute_statements_now(connection, insert_statements([*runs, *links]))
    if conversations := {run.conversation_id for run in runs if run.conversation_id}:
        connection.execute(
            update(ConversationRow)
            .where(ConversationRow.id.in_(conversations))
            .values(last_message_at=utcnow())
        )


def step_statement(values: dict[str, Any]) -> Statement:
    return _INSERT_STEP, values


def store_time_statement(step_id: str, store_ms: int) -> Statement:
    return _RECORD_STORE_TIME, {"step_id": step_id, "new_store_ms": store_ms}


def progress_statement(run_id: str, usage: dict[str, int]) -> Statement:
    """The run's usage so far, and a heartbeat."""
    return _RECORD_PROGRESS, {"run_id": run_id, "new_usage": usage, "now": utcnow()}


def end_statement(
    run_id: str,
    status: str,
    stop_reason: str,
    error: str | None,
    *,
    usage: dict[str, int] | None = None,
) -> Statement:
    """The run's end, with its final usage when the step that ended it gives one."""
    values: dict[str, Any] = {
        "run_id": run_id, "new_status": status, "new_stop_reason": stop_reason,
        "new_error": error, "now": utcnow(),
    }  # fmt: skip
    if usage is None:
        return _RECORD_END, values
    return _RECORD_END_WITH_USAGE, {**values, "new_usage": usage}


async def record_end(
    session: AsyncSession,
    run_id: str,
    status: str,
    stop_reason: str,
    error: str | None,
    *,
    usage: dict[str, int] | None = None,
) -> None:
    statement, values = end_statement(run_id, status, stop_reason, error, usage=usage)
    await session.execute(statement.statement, values)


async def get_run(session: AsyncSession, run_id: str) -> RunRow:
    return await row_or_not_found(session, RunRow, run_id, "run")


async def list_runs(
    session: AsyncSession,
    page: Page,
    *,
    agent_ids: list[str] | None = None,
    statuses: list[str] | None = None,
    stop_reason: str | None = None,
    background: bool | None = None,
    conversation_id: str | None = None,
) -> list[RunRow]:
    """`background`: only runs asked for in background mode (True) or only the others;
    `conversation_id`: only the runs of that conversation."""
    stmt = select(RunRow)
    if agent_ids:
        stmt = stmt.where(RunRow.agent_id.in_(agent_ids))
    if conversation_id is not None:
        stmt = stmt.where(RunRow.conversation_id == conversation_id)
    if statuses:
        stmt = stmt.where(RunRow.status.in_(statuses))
    if stop_reason is not None:
        stmt = stmt.where(RunRow.stop_reason == stop_reason)
    if background is not None:
        asked = func.coalesce(RunRow.request["background"].as_boolean(), false())
        stmt = stmt.where(asked == background)
    return await fetch_page(session, stmt, by_creation(RunRow), page)


async def active_runs(
    session: AsyncSession, page: Page, *, agent_ids: list[str] | None = None
) -> list[RunRow]:
    """Runs not ended yet (waiting to start, or running)."""
    return await list_runs(session, page, agent_ids=agent_ids, statuses=list(ACTIVE))


async def cancel_runs(session: AsyncSession, run_ids: Collection[str]) -> list[str]:
    """End these runs, and the runs they started in their trace (send-and-wait targets,
    broadcasts, deliveries, and theirs in turn), as cancelled; the ids of those that had
    not ended yet. The status is the cancel flag the executing process acts on."""
    family = await _with_descendants(session, set(run_ids))
    if not family:
        return []
    now = utcnow()
    stmt = (
        update(RunRow)
        .where(RunRow.id.in_(sorted(family)), _IS_ACTIVE)
        .values(status="cancelled", stop_reason="cancelled", completed_at=now, heartbeat_at=now)
        .returning(RunRow.id)
    )
    return list((await session.execute(stmt)).scalars())


async def _with_descendants(session: AsyncSession, run_ids: set[str]) -> set[str]:
    """The runs and every run started from them, in their traces."""
    found, frontier = set(run_ids), set(run_ids)
    while frontier:
        parent = aliased(RunRow)
        stmt = (
            select(RunRow.id)
            .join(parent, parent.id == RunRow.parent_run_id)
            .where(RunRow.parent_run_id.in_(sorted(frontier)), RunRow.trace_id == parent.trace_id)
        )
        frontier = set((await session.execute(stmt)).scalars()) - found
        found |= frontier
    return found


async def cancel_waiting_run(session: AsyncSession, run_id: str) -> bool:
    """End as cancelled a run whose turn stopped for approval (completed, stop reason
    `requires_approval`) once its waiting calls are cancelled; False if it is not such a run."""
    now = utcnow()
    stmt = (
        update(RunRow)
        .where(
            RunRow.id == run_id,
            RunRow.status == "completed",
            RunRow.stop_reason == "requires_approval",
        )
        .values(status="cancelled", stop_reason="cancelled", completed_at=now, heartbeat_at=now)
        .returning(RunRow.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def cancelled_among(session: AsyncSession, run_ids: Collection[str]) -> set[str]:
    if not run_ids:
        return set()
    stmt = select(RunRow.id).where(RunRow.id.in_(list(run_ids)), RunRow.status == "cancelled")
    return set((await session.execute(stmt)).scalars())


async def delete_run(session: AsyncSession, run_id: str) -> None:
    """The run's record and its steps; the messages it stored stay in the history."""
    await session.execute(delete(RunRow).where(RunRow.id == run_id))


async def claim_run(session: AsyncSession, run_id: str, owner: str | None = None) -> bool:
    """Move a created run to running (executed by process `owner`); False if another worker
    got there first."""
    now = utcnow()
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == "created")
        .values(status="running", started_at=now, heartbeat_at=now, owner=owner)
    )
    return bool(getattr(result, "rowcount", 0))


async def touch_runs(session: AsyncSession, run_ids: list[str]) -> None:
    if run_ids:
        await session.execute(
            update(RunRow).where(RunRow.id.in_(run_ids)).values(heartbeat_at=utcnow())
        )


async def stale_running_runs(session: AsyncSession, older_than: datetime) -> list[RunRow]:
    stmt = select(RunRow).where(RunRow.status == "running", RunRow.heartbeat_at < older_than)
    return list((await session.execute(stmt)).scalars())


async def waiting_runs(session: AsyncSession, older_than: datetime) -> list[RunRow]:
    """Async runs created before `older_than` that nobody has started: left by a dead process."""
    stmt = select(RunRow).where(RunRow.status == "created", RunRow.created_at < older_than)
    return list((await session.execute(stmt)).scalars())


async def run_messages(
    session: AsyncSession,
    run_id: str,
    page: Page,
    *,
    leave_out: Sequence[str] = (),
    only: Sequence[str] | None = None,
) -> list[MessageRow]:
    """The run's messages in sequence order (a run is one agent's turn): those of the
    message types in `only` (when given), but not those in `leave_out`."""
    stmt = select(MessageRow).where(MessageRow.run_id == run_id)
    if leave_out:
        stmt = stmt.where(MessageRow.message_type.not_in(leave_out))
    if only is not None:
        stmt = stmt.where(MessageRow.message_type.in_(only))
    return await fetch_page(session, stmt, BY_SEQUENCE, page)


async def run_messages_after(
    session: AsyncSession,
    run_id: str,
    after_seq: int,
    limit: int,
    *,
    leave_out: Sequence[str] = (),
    only: Sequence[str] | None = None,
) -> list[MessageRow]:
    """The run's messages past a sequence number, in order: what a stream's reader missed
    (of the types in `only`, when given, but not those in `leave_out`)."""
    stmt = select(MessageRow).where(MessageRow.run_id == run_id, MessageRow.seq > after_seq)
    if leave_out:
        stmt = stmt.where(MessageRow.message_type.not_in(leave_out))
    if only is not None:
        stmt = stmt.where(MessageRow.message_type.in_(only))
    stmt = stmt.order_by(MessageRow.seq).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def last_seq_of_run(session: AsyncSession, run_id: str) -> int:
    stmt = select(func.max(MessageRow.seq)).where(MessageRow.run_id == run_id)
    return int((await session.execute(stmt)).scalar() or 0)


async def run_steps(session: AsyncSession, run_id: str, page: Page) -> list[StepRow]:
    stmt = select(StepRow).where(StepRow.run_id == run_id)
    return await fetch_page(session, stmt, by_creation(StepRow), page)


async def recent_trace_ids(
    session: AsyncSession, *, limit: int, agent_id: str | None = None
) -> list[str]:
    """Trace ids, the most recently started first; with `agent_id`, those it took part in."""
    started = func.min(RunRow.created_at)
    stmt = (
        select(RunRow.trace_id)
        .where(RunRow.trace_id.is_not(None))
        .group_by(RunRow.trace_id)
        .order_by(started.desc(), RunRow.trace_id)
        .limit(limit)
    )
    if agent_id is not None:
        involved = select(RunRow.trace_id).where(RunRow.agent_id == agent_id)
        stmt = stmt.where(RunRow.trace_id.in_(involved))
    return [trace_id for (trace_id,) in (await session.execute(stmt)).all() if trace_id]


async def runs_of_traces(session: AsyncSession, trace_ids: list[str]) -> list[RunRow]:
    stmt = select(RunRow).where(RunRow.trace_id.in_(trace_ids)).order_by(RunRow.created_at)
    return list((await session.execute(stmt)).scalars())


# -- recovery of runs a stopped process left behind (see troupe.runs.executor) ---------------


async def begun_runs(session: AsyncSession, run_ids: Collection[str]) -> set[str]:
    """Of these runs, those that stored a message or set another agent's run going (a
    send-and-wait, a broadcast): running them again would repeat what they did."""
    if not run_ids:
        return set()
    child = aliased(RunRow)
    stmt = select(RunRow.id).where(
        RunRow.id.in_(list(run_ids)),
        or_(
            exists().where(MessageRow.run_id == RunRow.id),
            exists().where(child.parent_run_id == RunRow.id),
        ),
    )
    return set((await session.execute(stmt)).scalars())


async def hold_run(session: AsyncSession, run_id: str, reason: str) -> None:
    """A claimed background run back to "created" to wait, its stop reason saying for what
    (it is not ended: its end, later, records its own)."""
    await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == "running")
        .values(status="created", started_at=None, heartbeat_at=None, stop_reason=reason)
    )


async def held_runs(session: AsyncSession, agent_id: str) -> list[RunRow]:
    """The agent's background runs waiting for its approval (see `hold_run`), whichever
    process held them."""
    stmt = select(RunRow).where(
        RunRow.agent_id == agent_id,
        RunRow.status == "created",
        RunRow.stop_reason == "requires_approval",
    )
    return list((await session.execute(stmt)).scalars())


async def requeue_runs(session: AsyncSession, run_ids: Collection[str]) -> None:
    """Background runs back to "created", for a worker to claim them afresh."""
    if run_ids:
        await session.execute(
            update(RunRow)
            .where(RunRow.id.in_(list(run_ids)))
            .values(status="created", started_at=None, heartbeat_at=None)
        )
