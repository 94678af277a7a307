"""Runs: the record of each request to an agent, and the tasks that execute them.

Every turn runs in a task of its own, so a client that disconnects never cuts a turn in half.
Async runs are executed from their stored request, so a restart picks up what a crash left:
a run that had not started yet runs; one that had started is marked failed, never left
"running" forever."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.deps import LoopDeps
from troupe.agent.loop import Observer, Turn, TurnResult, run_turn
from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.runs.locks import AgentLocks
from troupe.runs.request import RunRequest
from troupe.store import runs as run_store
from troupe.store.inserts import insert_rows
from troupe.store.tables import RunRow, utcnow

log = logging.getLogger("troupe.runs")
T = TypeVar("T")
INTERRUPTED = "interrupted: the server stopped while this run was in progress"


class RunExecutor:
    def __init__(
        self,
        rt: LoopDeps,
        locks: AgentLocks,
        *,
        heartbeat_every_s: float = 5.0,
        stale_after_s: float = 30.0,
        single_process: bool = False,
    ) -> None:
        self.rt = rt
        self.locks = locks  # every turn runs holding its agent's lock
        self.heartbeat_every_s = heartbeat_every_s
        self.stale_after_s = stale_after_s
        # With SQLite only one process serves a database, so at start-up every "running" run
        # is an orphan; on PostgreSQL another process may still be running it.
        self.single_process = single_process
        self._tasks: set[asyncio.Task[Any]] = set()
        self._active: set[str] = set()
        self._janitor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._recover(startup=True)
        self._janitor = asyncio.create_task(self._maintain())

    async def stop(self, grace_s: float = 10.0) -> None:
        if self._janitor:
            self._janitor.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)
        for task in self._tasks:
            task.cancel()
        await self.locks.close()

    def spawn(self, work: Awaitable[T]) -> "asyncio.Task[T]":
        """A task the server waits for on shutdown; callers await it shielded."""

        async def wrapped() -> T:
            return await work

        task = asyncio.create_task(wrapped())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def create_run(
        self,
        agent_id: str,
        request: RunRequest,
        *,
        background: bool,
        trace_id: str | None = None,
        parent_run_id: str | None = None,
    ) -> RunRow:
        """Record a run. A background run waits as "created" for a worker to claim it."""
        (run,) = await self.create_runs(
            [(agent_id, request)],
            background=background,
            trace_id=trace_id,
            parent_run_id=parent_run_id,
        )
        return run

    async def create_runs(
        self,
        requests: list[tuple[str, RunRequest]],
        *,
        background: bool,
        trace_id: str | None = None,
        parent_run_id: str | None = None,
    ) -> list[RunRow]:
        """Record runs of several agents (agent id, request) in one transaction: a broadcast
        records all its targets' runs at once."""
        now = utcnow()
        runs = [
            RunRow(
                id=new_id("run"),
                agent_id=agent_id,
                status="created" if background else "running",
                request=replace(request, background=background).to_json(),
                usage={},
                trace_id=trace_id or new_id("trace"),
                parent_run_id=parent_run_id,
                created_at=now,
                started_at=None if background else now,
                heartbeat_at=None if background else now,
            )
            for agent_id, request in requests
        ]
        async with self.rt.db.write() as session:
            try:
                await insert_rows(session, runs)
            except IntegrityError:  # the run's one foreign key: an agent is not there
                missing = ", ".join(repr(agent_id) for agent_id, _ in requests)
                raise NotFound(f"agent {missing} not found") from None
        return runs

    async def execute(
        self,
        run: RunRow,
        observe: Observer | None = None,
        on_inputs_recorded: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> TurnResult:
        """Run the turn the run's request describes (the caller already marked it running)."""
        request = RunRequest.from_json(run.request)
        turn = Turn(
            agent_id=run.agent_id,
            run_id=run.id,
            trace_id=run.trace_id or run.id,
            inputs=request.inputs,
            max_steps=request.max_steps,
            chain=request.chain,
            client_tools=request.client_tools,
            on_inputs_recorded=on_inputs_recorded,
            records_end=True,
        )
        self._active.add(run.id)
        try:
            async with self.locks.hold(run.agent_id):
                result = await run_turn(self.rt, turn, observe)
        except Exception as exc:
            await self._finish(run.id, "failed", "error", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._active.discard(run.id)
        if not result.recorded:  # else the turn's last step already recorded the end
            status = "failed" if result.stop_reason == "error" else "completed"
            await self._finish(run.id, status, result.stop_reason, result.error)
        return result

    def submit(self, run: RunRow) -> None:
        """Execute a created (background) run in a task, if this process wins the claim."""

        async def claim_and_execute() -> None:
            async with self.rt.db.write() as session:
                claimed = await run_store.claim_run(session, run.id)
            if not claimed:
                return
            try:
                await self.execute(run)
            except Exception:
                log.exception("run %s failed", run.id)

        self.spawn(claim_and_execute())

    async def _finish(self, run_id: str, status: str, stop_reason: str, error: str | None) -> None:
        async with self.rt.db.write() as session:
            await run_store.record_end(session, run_id, status, stop_reason, error)

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_every_s)
            try:
                async with self.rt.db.write() as session:
                    await run_store.touch_runs(session, sorted(self._active))
                await self._recover(startup=False)
            except Exception:  # keep maintaining; the next round retries
                log.exception("run maintenance failed")

    async def _recover(self, *, startup: bool) -> None:
        now = utcnow()
        stale = (
            now
            if (startup and self.single_process)
            else now - timedelta(seconds=self.stale_after_s)
        )
        async with self.rt.db.write() as session:
            orphans = [
                run
                for run in await run_store.stale_running_runs(session, stale)
                if run.id not in self._active
            ]
            # A run that set other agents' turns going (send-and-wait, broadcast) before it
            # stored anything is not run again: those turns would happen twice.
            begun = await run_store.begun_runs(session, [run.id for run in orphans])
            again = [
                run.id
                for run in orphans
                if run.id not in begun and RunRequest.from_json(run.request).background
            ]
            await run_store.requeue_runs(session, again)
            for run in orphans:
                if run.id not in again:
                    await run_store.record_end(session, run.id, "failed", "error", INTERRUPTED)
            waiting = await run_store.waiting_runs(
                session, now if startup else now - timedelta(seconds=self.stale_after_s)
            )
        for run in waiting:
            if run.id not in self._active:
                self.submit(run)
