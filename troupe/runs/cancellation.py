"""Cancelling runs: the store records it (the run's status is the flag), and the process
executing each run stops its turn (troupe.agent.cancel). The run may execute in another
process sharing PostgreSQL: a NOTIFY in the cancelling transaction tells every process at
once, and the executor's maintenance round re-reads the flags of its runs in case a notice
was missed."""

import logging
from collections import OrderedDict
from collections.abc import Collection

from troupe.agent.cancel import CancelSignal
from troupe.store import notices
from troupe.store import runs as run_store
from troupe.store.db import Database

log = logging.getLogger("troupe.runs")
CHANNEL = "troupe_run_cancel"
REMEMBERED = 10_000  # cancelled runs not executing here (yet): a run recorded, then cancelled
# before its turn began, must not run


class Cancellations:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._signals: dict[str, CancelSignal] = {}  # the runs this process executes
        self._listening: notices.Listening | None = None
        self._cancelled: OrderedDict[str, None] = OrderedDict()  # not executing when cancelled

    async def start(self) -> None:
        if not self.db.is_sqlite:  # SQLite: one process, which cancels its runs itself
            self._listening = await notices.listen(self.db, CHANNEL, self._on_notice)

    async def stop(self) -> None:
        if self._listening is not None:
            await self._listening.close()
            self._listening = None

    def signal_for(self, run_id: str) -> CancelSignal:
        """The signal of a run this process starts executing; `release` it at the end."""
        signal = self._signals[run_id] = CancelSignal()
        if run_id in self._cancelled:  # cancelled between its record and its start
            signal.request()
        return signal

    def release(self, run_id: str) -> None:
        self._signals.pop(run_id, None)

    def executing(self) -> list[str]:
        return sorted(self._signals)

    def is_executing(self, run_id: str) -> bool:
        return run_id in self._signals

    async def cancel(self, run_ids: Collection[str]) -> list[str]:
        """Cancel the runs and those they started; the ids that were still going."""
        async with self.db.write() as session:
            cancelled = await run_store.cancel_runs(session, run_ids)
            if cancelled and not self.db.is_sqlite:
                await notices.notify_ids(session, CHANNEL, cancelled)
        self.stop_turns(cancelled)
        return cancelled

    def stop_turns(self, run_ids: Collection[str]) -> None:
        """Stop the turns of these runs that execute in this process."""
        for run_id in run_ids:
            signal = self._signals.get(run_id)
            if signal is not None:
                signal.request()
            else:
                self._cancelled[run_id] = None
                while len(self._cancelled) > REMEMBERED:
                    self._cancelled.popitem(last=False)

    async def catch_up(self) -> None:
        """Stop the turns of runs cancelled without this process hearing of it."""
        async with self.db.read() as session:
            cancelled = await run_store.cancelled_among(session, self.executing())
        self.stop_turns(cancelled)

    def _on_notice(self, payload: str) -> None:
        self.stop_turns([run_id for run_id in payload.split(",") if run_id])
