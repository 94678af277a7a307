"""Reading runs, their messages, usage and steps."""

from troupe.errors import Conflict, NotFound
from troupe.runs.executor import RunExecutor
from troupe.runs.request import RunRequest
from troupe.runs.waiting_cancel import waiting_run
from troupe.schemas.messages import (
    MESSAGE_TYPES_OF_ROLE,
    LettaMessage,
    MessageRole,
    Run,
    UsageStatistics,
)
from troupe.schemas.steps import Step
from troupe.services.message_groups import grouped
from troupe.services.views import message_view, run_view, step_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import runs as run_store
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import RunRow


async def get_run(db: Database, run_id: str) -> Run:
    async with db.read() as session:
        return run_view(await run_store.get_run(session, run_id))


async def list_runs(
    db: Database,
    page: Page,
    *,
    agent_ids: list[str],
    statuses: list[str],
    stop_reason: str | None = None,
    active: bool = False,
    background: bool | None = None,
    conversation_id: str | None = None,
) -> list[Run]:
    """With `active`, only runs not ended yet (of the `statuses`, if some are given);
    `background`: only runs asked for in background mode, or only the others;
    `conversation_id`: only the runs of that conversation."""
    if active:
        ongoing = [s for s in statuses if s in run_store.ACTIVE] if statuses else run_store.ACTIVE
        statuses = list(ongoing) or ["(none)"]  # only ended statuses were asked for
    async with db.read() as session:
        rows = await run_store.list_runs(
            session,
            page,
            agent_ids=agent_ids,
            statuses=statuses,
            stop_reason=stop_reason,
            background=background,
            conversation_id=conversation_id,
        )
    return [run_view(r) for r in rows]


# A run's input (a user's message, a delivered one, answers to waiting calls); the turn
# produces none of them. As a sync response, a run's messages are what the agent produced.
INPUT_TYPES = ("user_message", "system_message", "approval_response_message")


async def run_messages(
    db: Database, run_id: str, page: Page, *, role: MessageRole | None = None
) -> list[LettaMessage]:
    """What the run produced, of the types its request asked to read back (and of `role`'s
    types, when given: 0.1.x's filter)."""
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
        wanted = RunRequest.from_json(run.request or {}).return_message_types
        if role is not None:
            of_role = MESSAGE_TYPES_OF_ROLE[role]
            wanted = of_role if wanted is None else tuple(t for t in wanted if t in of_role)
        rows = await run_store.run_messages(
            session, run_id, page, leave_out=INPUT_TYPES, only=wanted
        )
    return grouped([message_view(r) for r in rows])


async def run_usage(db: Database, run_id: str) -> UsageStatistics:
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
    return UsageStatistics(**(run.usage or {}))


async def run_steps(db: Database, run_id: str, page: Page) -> list[Step]:
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
        steps = await run_store.run_steps(session, run_id, page)
    return [step_view(s, run.trace_id) for s in steps]


async def cancel_agent_runs(
    executor: RunExecutor, agent_id: str, run_ids: list[str] | None
) -> dict[str, str]:
    """Cancel the agent's runs (the named ones, or all that have not ended, and the run
    whose calls it waits on for approval) and the runs they started; each cancelled id
    with "cancelled". A named run that is unknown, of another agent, or already ended (and
    not waiting for approval) is refused, and then nothing is cancelled; with none named
    and none going, a 409 says so (as Letta, and as a conversation's cancel)."""
    default = History(agent_id)
    waiting = await waiting_run(executor.rt, default) if run_ids is None else None
    async with executor.rt.db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        if run_ids is None:
            active = await run_store.active_runs(session, Page(limit=10_000), agent_ids=[agent_id])
            targets = [run.id for run in active]
        else:
            targets = list(dict.fromkeys(run_ids))
            for run_id in targets:
                run = await run_store.get_run(session, run_id)
                if run.agent_id != agent_id:
                    raise NotFound(f"run {run_id!r} is not a run of agent {agent_id!r}")
                if run.stop_reason == "requires_approval" and waiting is None:
                    waiting = await waiting_run(executor.rt, default)
                if run.id != waiting:
                    _refuse_ended(run)
    if not targets and waiting is None:
        raise Conflict(f"agent {agent_id!r} has no run in progress to cancel")
    cancelled = await executor.cancellations.cancel([t for t in targets if t != waiting])
    if waiting is not None and await executor.cancel_waiting(default, waiting):
        cancelled.append(waiting)
    return dict.fromkeys(cancelled, "cancelled")


async def delete_run(executor: RunExecutor, run_id: str) -> Run:
    """0.1.x's DELETE /v1/runs/{id}: a run still going is cancelled (and kept, so the
    cancel shows); an ended run's record is deleted (its messages stay in the history)."""
    async with executor.rt.db.read() as session:
        run = await run_store.get_run(session, run_id)
    if run.status in run_store.ACTIVE:
        await executor.cancellations.cancel([run_id])
        return await get_run(executor.rt.db, run_id)
    async with executor.rt.db.write() as session:
        await run_store.delete_run(session, run_id)
    return run_view(run)


def _refuse_ended(run: RunRow) -> None:
    if run.status not in run_store.ACTIVE:
        raise Conflict(
            f"run {run.id!r} has already ended ({run.status}, stop reason {run.stop_reason}); "
            "only a run that is created or running can be cancelled"
        )
