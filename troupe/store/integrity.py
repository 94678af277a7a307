"""An integrity check over a whole store: the invariants the tables do not enforce by
themselves but everything else in troupe relies on. Run by `troupe check` and by the test
suite's reliability drills after each drill; read-only, on SQLite and PostgreSQL alike.

What must hold at any time:
- every message belongs to a run of its own agent, and an agent's `seq` runs 1, 2, ... n;
- every tool call has exactly one tool return in the same step, and every return a call;
- every step belongs to a run of its agent;
- every run and delivery has a known status; finished runs have a stop reason that agrees
  with their status; a done delivery names the run of its target that processed it, and no
  delivery was processed (recorded in a history) more than once;
- blocks are at version 1 or more, hold no more than their limit, and every attachment
  carries its block's current label.

What must also hold when the server is idle (`idle=True`): no run is created or running, and
no delivery is still pending or claimed. A delivery given up on (failed) is always reported."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.schemas.stop_reasons import StopReasonValue, fails_run
from troupe.store.db import Database
from troupe.store.tables import (
    AgentBlockRow,
    AgentRow,
    BlockRow,
    DeliveryRow,
    MessageRow,
    RunRow,
    StepRow,
)

RUN_STATUSES = {"created", "running", "completed", "failed", "cancelled"}
FINISHED_RUN_STATUSES = {"completed", "failed", "cancelled"}
# Every stop reason a run may end with: a turn that waits for an approval ends its run
# `completed` with `requires_approval` (the approval goes on in a run of its own).
STOP_REASONS = set(get_args(StopReasonValue))
DELIVERY_STATUSES = {"pending", "processing", "done", "failed"}
# Rows that answer a tool call, and rows a tool call may be written as (a reply through
# send_message is stored as the assistant message itself and gets no return).
CALL_TYPES = {"tool_call_message", "assistant_message"}
SHOWN_PER_KIND = 20  # examples kept per kind of problem; the count is always exact


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str


@dataclass
class IntegrityReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    def add(self, kind: str, detail: str) -> None:
        self.problem_counts[kind] += 1
        if self.problem_counts[kind] <= SHOWN_PER_KIND:
            self.problems.append(Problem(kind, detail))

    def summary(self) -> str:
        seen = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        if self.ok:
            return f"store intact: {seen}"
        lines = [f"{sum(self.problem_counts.values())} problems in {seen}:"]
        for kind, count in sorted(self.problem_counts.items()):
            lines.append(f"  {kind}: {count}")
            lines.extend(f"    - {p.detail}" for p in self.problems if p.kind == kind)
        return "\n".join(lines)


async def check_store(db: Database, *, idle: bool = False) -> IntegrityReport:
    """Check every invariant above in one read snapshot; `idle` adds the quiet-server ones."""
    async with db.read() as session:
        return await check_session(session, idle=idle)


async def check_session(session: AsyncSession, *, idle: bool = False) -> IntegrityReport:
    """`check_store` on an open session (it sees that session's own uncommitted changes)."""
    report = IntegrityReport()
    for name, table in (
        ("agents", AgentRow),
        ("runs", RunRow),
        ("messages", MessageRow),
        ("deliveries", DeliveryRow),
        ("blocks", BlockRow),
    ):
        count = await session.execute(select(func.count()).select_from(table))
        report.counts[name] = int(count.scalar_one())
    runs = await _runs(session)
    await _check_messages(session, report, runs)
    await _check_tool_calls(session, report)
    await _check_steps(session, report, runs)
    _check_runs(report, runs, idle=idle)
    await _check_deliveries(session, report, runs, idle=idle)
    await _check_blocks(session, report)
    return report


async def check_database(url: str, *, idle: bool = False) -> IntegrityReport:
    """`check_store` on a database URL (the schema must already be migrated). A SQLite file
    that does not exist is an error, not a new empty store: the check writes nothing."""
    _require_sqlite_file(url)
    db = Database(url)
    try:
        return await check_store(db, idle=idle)
    finally:
        await db.dispose()


def _require_sqlite_file(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise FileNotFoundError(f"no SQLite store at {parsed.database!r}")


@dataclass(frozen=True)
class _Run:
    id: str
    agent_id: str
    status: str
    stop_reason: str | None
    completed: bool
    delivery_id: str | None


async def _runs(session: AsyncSession) -> dict[str, _Run]:
    stmt = select(
        RunRow.id,
        RunRow.agent_id,
        RunRow.status,
        RunRow.stop_reason,
        RunRow.completed_at,
        RunRow.request,
    )
    return {
        row.id: _Run(
            row.id,
            row.agent_id,
            row.status,
            row.stop_reason,
            row.completed_at is not None,
            _delivery_of(row.request),
        )
        for row in await session.execute(stmt)
    }


def _delivery_of(request: Any) -> str | None:
    value = request.get("delivery_id") if isinstance(request, dict) else None
    return str(value) if value else None


async def _check_messages(
    session: AsyncSession, report: IntegrityReport, runs: dict[str, _Run]
) -> None:
    stmt = select(MessageRow.id, MessageRow.agent_id, MessageRow.run_id)
    for message_id, agent_id, run_id in await session.execute(stmt):
        run = runs.get(run_id or "")
        if run is None:
            report.add("message without a run", f"{message_id} names run {run_id!r}")
        elif run.agent_id != agent_id:
            report.add(
                "message in another agent's run",
                f"{message_id} of {agent_id} is in {run_id} of {run.agent_id}",
            )
    # Each history (an agent's default one, each conversation) numbers its own messages.
    sequences = select(
        MessageRow.agent_id,
        MessageRow.conversation_id,
        func.count(),
        func.min(MessageRow.seq),
        func.max(MessageRow.seq),
    ).group_by(MessageRow.agent_id, MessageRow.conversation_id)
    for agent_id, conversation_id, count, lowest, highest in await session.execute(sequences):
        if lowest != 1 or highest != count:
            history = f"{agent_id}/{conversation_id}" if conversation_id else agent_id
            report.add(
                "history sequence with gaps",
                f"{history}: {count} messages numbered {lowest}..{highest}",
            )


# (agent, conversation), step, tool call id: a fork's copy of a call is a call of its own.
_CallKey = tuple[tuple[str, str], str | None, str | None]


async def _check_tool_calls(session: AsyncSession, report: IntegrityReport) -> None:
    stmt = select(
        MessageRow.agent_id,
        MessageRow.conversation_id,
        MessageRow.step_id,
        MessageRow.tool_call_id,
        MessageRow.message_type,
        MessageRow.id,
    ).where(MessageRow.tool_call_id.is_not(None))
    calls: dict[_CallKey, list[str]] = defaultdict(list)
    returns: dict[_CallKey, list[str]] = defaultdict(list)
    replies: set[_CallKey] = set()
    rows = await session.execute(stmt)
    for agent_id, conversation_id, step_id, call_id, message_type, message_id in rows:
        key = ((agent_id, conversation_id), step_id, call_id)
        if message_type == "tool_call_message":
            calls[key].append(message_id)
        elif message_type == "tool_return_message":
            returns[key].append(message_id)
        elif message_type in CALL_TYPES:
            replies.add(key)
    for key, ids in calls.items():
        if len(returns.get(key, [])) != 1:
            report.add(
                "tool call without exactly one return",
                f"{ids[0]} ({key[2]}) of {key[0][0]} has {len(returns.get(key, []))} returns",
            )
    for key, ids in returns.items():
        if key not in calls and key not in replies:
            report.add("tool return without a call", f"{ids[0]} ({key[2]}) of {key[0][0]}")


async def _check_steps(
    session: AsyncSession, report: IntegrityReport, runs: dict[str, _Run]
) -> None:
    for step_id, run_id, agent_id in await session.execute(
        select(StepRow.id, StepRow.run_id, StepRow.agent_id)
    ):
        run = runs.get(run_id)
        if run is None or run.agent_id != agent_id:
            report.add("step outside its agent's run", f"{step_id} of {agent_id} in {run_id}")


def _check_runs(report: IntegrityReport, runs: dict[str, _Run], *, idle: bool) -> None:
    for run in runs.values():
        if run.status not in RUN_STATUSES:
            report.add("run with an unknown status", f"{run.id}: {run.status!r}")
        elif run.status in FINISHED_RUN_STATUSES:
            agrees = fails_run(run.stop_reason) == (run.status == "failed")
            if run.stop_reason not in STOP_REASONS or not agrees or not run.completed:
                report.add(
                    "finished run without a consistent stop reason",
                    f"{run.id}: {run.status} with stop reason {run.stop_reason!r}",
                )
        elif idle:
            report.add("run still unfinished on an idle server", f"{run.id}: {run.status}")


async def _check_deliveries(
    session: AsyncSession, report: IntegrityReport, runs: dict[str, _Run], *, idle: bool
) -> None:
    recorded = set(
        (await session.execute(select(MessageRow.run_id).distinct())).scalars()
    )  # runs that wrote anything: a delivery is processed when its input is recorded
    processed: dict[str, list[str]] = defaultdict(list)
    for run in runs.values():
        if run.delivery_id and run.id in recorded:
            processed[run.delivery_id].append(run.id)
    stmt = select(
        DeliveryRow.id, DeliveryRow.target_agent_id, DeliveryRow.status, DeliveryRow.result_run_id
    )
    for delivery_id, target, status, result_run_id in await session.execute(stmt):
        by = processed.get(delivery_id, [])
        if status not in DELIVERY_STATUSES:
            report.add("delivery with an unknown status", f"{delivery_id}: {status!r}")
        if len(by) > 1:
            report.add("delivery processed more than once", f"{delivery_id} by {', '.join(by)}")
        if status == "done":
            result = runs.get(result_run_id or "")
            if result is None or result.agent_id != target or result_run_id not in by:
                report.add(
                    "done delivery without its run",
                    f"{delivery_id} to {target} names run {result_run_id!r}",
                )
        elif status in {"pending", "processing"} and by:
            report.add(
                "delivery processed but not marked done", f"{delivery_id} ({status}) by {by[0]}"
            )
        if idle and status in {"pending", "processing"}:
            report.add("delivery still undelivered on an idle server", f"{delivery_id} ({status})")
        if status == "failed":
            report.add("delivery given up on", delivery_id)


async def _check_blocks(session: AsyncSession, report: IntegrityReport) -> None:
    stmt = select(BlockRow.id, BlockRow.version, func.length(BlockRow.value), BlockRow.char_limit)
    for block_id, version, length, limit in await session.execute(stmt):
        if version is None or version < 1:
            report.add("block with an invalid version", f"{block_id}: version {version!r}")
        if length is not None and limit is not None and length > limit:
            report.add("block over its limit", f"{block_id}: {length} characters of {limit}")
    mismatched = (
        select(AgentBlockRow.agent_id, AgentBlockRow.label, BlockRow.id, BlockRow.label)
        .join(BlockRow, BlockRow.id == AgentBlockRow.block_id)
        .where(AgentBlockRow.label != BlockRow.label)
    )
    for agent_id, attached_as, block_id, label in await session.execute(mismatched):
        report.add(
            "attachment with a stale label",
            f"{block_id} is {label!r} but attached to {agent_id} as {attached_as!r}",
        )
