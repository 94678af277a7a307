"""What a send-and-wait chain leaves in the store, read back to resume it after a crash: the
runs a waiting call waits on, the calls still waiting for their result, what a finished run
answered; and the claim that makes one process, and one only, carry an orphaned run on."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import MessageRow, RunRow, utcnow

_CALLS = ("tool_call_message", "tool_return_message")


async def waited_on(session: AsyncSession, run_id: str | None, call_id: str) -> list[RunRow]:
    """The runs the call `call_id` of run `run_id` (None: a call outside any run) waits on."""
    parent = RunRow.parent_run_id.is_(None) if run_id is None else RunRow.parent_run_id == run_id
    stmt = select(RunRow).where(RunRow.reply_to_call == call_id, parent).order_by(RunRow.id)
    return list((await session.execute(stmt)).scalars())


async def unanswered_calls(
    session: AsyncSession, run_id: str, tool_names: Collection[str]
) -> list[MessageRow]:
    """The run's calls of these tools that have no result stored, oldest first."""
    stmt = (
        select(MessageRow)
        .where(MessageRow.run_id == run_id, MessageRow.message_type.in_(_CALLS))
        .order_by(MessageRow.seq)
    )
    rows = list((await session.execute(stmt)).scalars())
    answered = {r.tool_call_id for r in rows if r.message_type == "tool_return_message"}
    return [
        r
        for r in rows
        if r.message_type == "tool_call_message"
        and r.tool_name in tool_names
        and r.tool_call_id not in answered
    ]


async def replies(session: AsyncSession, run_id: str) -> list[str]:
    """What the run's agent said (its assistant messages), in order."""
    stmt = (
        select(MessageRow.content)
        .where(MessageRow.run_id == run_id, MessageRow.message_type == "assistant_message")
        .order_by(MessageRow.seq)
    )
    return [text or "" for text in (await session.execute(stmt)).scalars()]


async def with_waiting_children(session: AsyncSession, run_ids: Collection[str]) -> set[str]:
    """Of these runs, those that made a send-and-wait (a run answers one of their calls)."""
    if not run_ids:
        return set()
    stmt = select(RunRow.parent_run_id).where(
        RunRow.parent_run_id.in_(list(run_ids)), RunRow.reply_to_call.is_not(None)
    )
    return {p for p in (await session.execute(stmt)).scalars() if p is not None}


async def claim_orphan(
    session: AsyncSession, run_id: str, seen_heartbeat: datetime | None, owner: str
) -> bool:
    """Take a running run whose process is gone, if nobody took it since its heartbeat
    was read as `seen_heartbeat`: of several processes (or tasks) trying, one wins."""
    beat = (
        RunRow.heartbeat_at.is_(None)
        if seen_heartbeat is None
        else RunRow.heartbeat_at == seen_heartbeat
    )
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == "running", beat)
        .values(heartbeat_at=utcnow(), owner=owner)
    )
    return bool(getattr(result, "rowcount", 0))
