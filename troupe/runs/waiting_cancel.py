"""Cancelling a run whose turn stopped for approval: its turn has ended (the run is
"completed" with stop reason `requires_approval`), but the agent still waits on its calls
and takes no other message. As Letta does, the cancel denies every waiting call (the denial
is each call's result, so the history stays valid for the model's provider) and ends the
run as cancelled; the agent then takes new messages again."""

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.approvals import awaiting_calls, cancelled_calls
from troupe.agent.deps import LoopDeps
from troupe.runs.locks import AgentLocks
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.messages import History


async def waiting_run(rt: LoopDeps, history: History) -> str | None:
    """The run whose calls the history waits on, if it waits."""
    async with rt.db.read() as session:
        waiting = awaiting_calls(await message_store.newest_step(session, history))
        if not waiting:
            return None
        return await message_store.run_of_message(session, waiting[0].id)


async def cancel_waiting(
    rt: LoopDeps, locks: AgentLocks, history: History, run_id: str | None = None
) -> str | None:
    """Deny the calls the agent waits on (only if they are `run_id`'s, when given) and end
    their run as cancelled; the run's id, or None if nothing waited."""
    if await waiting_run(rt, history) is None:  # no lock taken when nothing waits
        return None
    async with locks.hold(history):  # an answer may be on its way: read again, holding it
        async with rt.db.read() as session:
            rows = await message_store.newest_step(session, history)
            waiting = awaiting_calls(rows)
            owner = await message_store.run_of_message(session, waiting[0].id) if waiting else None
            run = await run_store.get_run(session, owner) if owner else None
        if run is None or (run_id is not None and run.id != run_id):
            return None
        messages = cancelled_calls(rows, run_id=run.id, trace_id=run.trace_id)

        async def end_run(session: AsyncSession) -> None:
            await run_store.cancel_waiting_run(session, run.id)

        await rt.steps.append(history, messages, end_run)
        rt.history.forget(history)
    return run.id
