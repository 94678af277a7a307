"""A run to execute now (a request answered in full or streamed), recorded with its turn's
start when its history's lock is free: one transaction instead of two (the run's record,
then the turn's opening read), and the check that no call waits for approval answered by
the window held instead of a statement of its own."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Unpack

from sqlalchemy import Connection

from troupe.agent.turn_start import Opening
from troupe.runs.locks import HeldLock
from troupe.runs.new_runs import RunOrigin, new_runs
from troupe.runs.request import RunRequest
from troupe.store.messages import History, StoredMessage
from troupe.store.tables import RunRow

if TYPE_CHECKING:
    from troupe.runs.executor import RunExecutor


class RunCheck(Protocol):
    """What the transaction recording a run checks first (see `RunExecutor.record`), a
    `RunExecutor.RunCheck` that may be told `newest`, the rows of the history's newest
    step, when they are known in that transaction (else it reads them)."""

    def __call__(
        self, connection: Connection, *, newest: Sequence[StoredMessage] | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Opened:
    """A run recorded with its turn's start read in the same transaction, and the
    history's lock taken before it: `RunExecutor.execute` it at once (its turn makes its
    start of what was read: in the turn's task, so a client leaving meanwhile does not
    leave the run recorded and never run)."""

    held: HeldLock
    opening: Opening


async def open_run(
    executor: "RunExecutor",
    history: History,
    request: RunRequest,
    *,
    check: RunCheck | None = None,
    **origin: Unpack[RunOrigin],
) -> tuple[RunRow, Opened | None]:
    """Record a run to execute now. When the history's lock is free it is taken at once
    (no other turn can append to the history from then on) and the turn's start is read
    in the transaction that records the run, before its insert: the rows newer than the
    window held (which, with the window, answer `check`'s question) and the agent.
    Else (a turn holds the lock, or it is a cross-process one: PostgreSQL) as
    `RunExecutor.create_run`, and the turn reads its start once it holds the lock."""
    held = await executor.locks.take_if_free(history)
    if held is None:
        run = await executor.create_run(
            history.agent_id, request, background=False, check=check, **origin
        )
        return run, None
    try:
        opening = executor.rt.starts.opening(history)

        def read_and_check(connection: Connection) -> None:
            newest = opening.read(connection)
            if check is not None:
                check(connection, newest=newest)

        if "traceparent" not in origin:
            origin["traceparent"] = executor.rt.telemetry.traceparent()
            origin["tracestate"] = executor.rt.telemetry.tracestate()
        runs = new_runs([(history.agent_id, request)], background=False, **origin)
        (run,) = await executor.record(runs, check=read_and_check)
        return run, Opened(held, opening)
    except BaseException:  # refused, or the agent is gone: nothing recorded, lock given back
        held.release()
        raise
