"""Fires scheduled messages when they are due.

Each firing is one transaction: the due message is claimed (FOR UPDATE SKIP LOCKED), its
run is recorded as a background run, and the message moves on to its next time (or, a
one-time message, is removed). A crash after the commit leaves a created run that the
executor's recovery starts; a crash before leaves the message due. So every occurrence
runs exactly once, across processes and restarts; one missed while the server was down
fires once at start, and a recurring message then goes on from the next time after now
(missed ticks are not replayed one by one)."""

import asyncio
import contextlib
import logging
from datetime import datetime

from troupe.config import MessagingSettings
from troupe.messaging.schedule_times import next_fire
from troupe.runs.executor import RunExecutor
from troupe.runs.new_runs import new_runs
from troupe.runs.request import request_for
from troupe.schemas.messages import DEFAULT_MAX_STEPS, MessageCreate
from troupe.store import schedules
from troupe.store.inserts import insert_rows
from troupe.store.schedule_tables import ScheduledMessageRow
from troupe.store.tables import RunRow, utcnow

log = logging.getLogger("troupe.schedules")
BATCH = 100  # due messages fired per transaction


def run_for(row: ScheduledMessageRow) -> RunRow:
    """The background run that delivers one occurrence of a scheduled message."""
    message = row.message
    request = request_for(
        [MessageCreate.model_validate(m) for m in message["messages"]],
        int(message.get("max_steps") or DEFAULT_MAX_STEPS),
        message.get("include_return_message_types"),
    )
    (run,) = new_runs(
        [(row.agent_id, request)], background=True, callback_url=message.get("callback_url")
    )
    return run


class Scheduler:
    def __init__(self, executor: RunExecutor, settings: MessagingSettings) -> None:
        self.executor = executor
        self.db = executor.rt.db
        self.poll_s = settings.schedule_poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A schedule changed in this process: look again now."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.fire_due()
                wait = await self._until_next_due()
            except Exception:  # the next round retries; a bad row must not stop the scheduler
                log.exception("firing scheduled messages failed")
                wait = self.poll_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def _until_next_due(self) -> float:
        async with self.db.read() as session:
            due_at = await schedules.next_due_at(session)
        if due_at is None:
            return self.poll_s
        return min(self.poll_s, max(0.0, (due_at - utcnow()).total_seconds()))

    async def fire_due(self) -> list[RunRow]:
        """Fire what is due now; the runs it started."""
        fired: list[RunRow] = []
        while True:
            now = utcnow()
            async with self.db.write() as session:
                due = await schedules.claim_due(session, now, BATCH)
                runs = [self._fire(row, now) for row in due]
                await insert_rows(session, [run for run, _ in runs])
                for (run, following), row in zip(runs, due, strict=True):
                    await schedules.moved_on(session, row.id, following, run.id)
            for run, _ in runs:
                self.executor.submit(run)
            fired.extend(run for run, _ in runs)
            if len(due) < BATCH:
                return fired

    def _fire(self, row: ScheduledMessageRow, now: datetime) -> tuple[RunRow, datetime | None]:
        log.info("scheduled message %s fires for agent %s", row.id, row.agent_id)
        return run_for(row), next_fire(row.schedule, now)
