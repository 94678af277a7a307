"""Which orphaned runs (their process died) belong to send-and-wait chains, and which of
those to carry on directly: a run waited on by a parent that is carried on too is left to
that parent, which collects it (see messaging.send_and_wait)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import chains
from troupe.store.tables import RunRow


async def chain_runs(session: AsyncSession, orphans: Sequence[RunRow]) -> set[str]:
    """The orphans that wait on another run, or that another run waits on."""
    waiting = await chains.with_waiting_children(session, [run.id for run in orphans])
    return waiting | {run.id for run in orphans if run.reply_to_call is not None}


def chained_roots(orphans: Sequence[RunRow], chained: set[str]) -> list[RunRow]:
    return [
        run
        for run in orphans
        if run.id in chained and not (run.reply_to_call and run.parent_run_id in chained)
    ]
