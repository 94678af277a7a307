"""Runs: the record of each request to an agent, and the tasks that execute them.

Every turn runs in a task of its own, so a client that disconnects never cuts a turn in half.
Async runs are executed from their stored request, so a restart picks up what a crash left:
a run that had not started yet runs; one that had started is marked failed, never left
"running" forever."""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar, Unpack

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.approvals import AwaitingApproval
from troupe.agent.deps import LoopDeps
from troupe.agent.loop import Observer, run_turn
from troupe.agent.messages import Message
from troupe.agent.token_stream import PieceObserver
from troupe.agent.turn import Turn, TurnResult
from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.runs.callbacks import RunCallbacks
from troupe.runs.cancellation import Cancellations
from troupe.runs.chains import chain_runs, chained_roots
from troupe.runs.held_runs import HeldRuns
from troupe.runs.locks import AgentLocks
from troupe.runs.new_runs import RunOrigin, new_runs
from troupe.runs.opening import Opened
from troupe.runs.progress import RunProgress
from troupe.runs.request import RunRequest
from troupe.runs.turn_listeners import TurnListener
from troupe.runs.waiting_cancel import cancel_waiting
from troupe.schemas.stop_reasons import ended_status, fails_run
from troupe.store import agents as agent_store
from troupe.store import runs as run_store
from troupe.store.chains import claim_orphan
from troupe.store.failures import failure_text
from troupe.store.messages import History
from troupe.store.tables import RunRow, utcnow

log = logging.getLogger("troupe.runs")
T = TypeVar("T")


RunCheck = Callable[[Connection], None]  # see `record`
INTERRUPTED = "interrupted: the server stopped while this run was in progress"


class RunExecutor:
    def __init__(
        self,
        rt: LoopDeps,
        locks: AgentLocks,
        *,
        heartbeat_every_s: float = 5.0,
        stale_after_s: float = 30.0,
        stream_ping_s: float = 5.0,
        single_process: bool = False,
        callbacks: RunCallbacks | None = None,
        upkeep: Callable[[], Awaitable[None]] | None = None,
        owner: str | None = None,
    ) -> None:
        """`upkeep`: more to do at each maintenance round (re-reading stored provider keys)."""
        self.rt = rt
        # This process's id, on the runs it executes (see store.process_liveness).
        self.owner = owner or new_id("process")
        self.callbacks = callbacks
        self.upkeep = upkeep
        self.locks = locks  # every turn runs holding its history's lock
        self.heartbeat_every_s = heartbeat_every_s
        self.stale_after_s = stale_after_s
        self.stream_ping_s = stream_ping_s  # keepalive of runs' streams (services.pings)
        # With SQLite only one process serves a database, so at start-up every "running" run
        # is an orphan; on PostgreSQL another process may still be running it.
        self.single_process = single_process
        self._tasks: set[asyncio.Task[Any]] = set()
        self.cancellations = Cancellations(rt.db)  # also: the runs this process executes
        self.progress = RunProgress(rt.db)  # wakes readers of runs' streams
        self._janitor: asyncio.Task[None] | None = None
        self.held_runs = HeldRuns(rt.db, self.submit, self.spawn, single_process=single_process)
        self.turn_listeners: list[TurnListener] = []

    async def start(self) -> None:
        await self.cancellations.start()
        await self.progress.start()
        await self._recover(startup=True)
        self._janitor = asyncio.create_task(self._maintain())

    async def stop(self, grace_s: float = 10.0) -> None:
        if self._janitor:
            self._janitor.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)
        for task in self._tasks:
            task.cancel()
        await self.cancellations.stop()
        await self.progress.stop()
        await self.locks.close()
        if self.callbacks:
            await self.callbacks.close()

    def spawn(self, work: Awaitable[T]) -> "asyncio.Task[T]":
        """A task the server waits for on shutdown; callers await it shielded."""

        async def wrapped() -> T:
            return await work

        # A coroutine runs as the task itself: no frame of ours to resume at every await.
        task = asyncio.create_task(work if asyncio.iscoroutine(work) else wrapped())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def create_run(
        self,
        agent_id: str,
        request: RunRequest,
        *,
        background: bool,
        check: RunCheck | None = None,
        **origin: Unpack[RunOrigin],
    ) -> RunRow:
        """Record a run. A background run waits as "created" for a worker to claim it.
        The span now current (a request's) is its parent, unless its request names one."""
        if "traceparent" not in origin:
            origin["traceparent"] = self.rt.telemetry.traceparent()
            origin["tracestate"] = self.rt.telemetry.tracestate()
        runs = new_runs([(agent_id, request)], background=background, **origin)
        (run,) = await self.record(runs, check=check)
        return run

    async def record(
        self, runs: list[RunRow], *, group_id: str | None = None, check: RunCheck | None = None
    ) -> list[RunRow]:
        """Store new runs (`new_runs`) in one transaction, `check` first (a refused request
        costs no transaction of its own). A group's turns are recorded as the group's too."""
        for run in runs:
            if run.status == "running":
                run.owner = self.owner

        def record(connection: Connection) -> None:
            if check is not None:
                check(connection)
            try:
                run_store.insert_runs(connection, runs, group_id)
            except IntegrityError:  # the run's one foreign key: an agent is not there
                missing = ", ".join(repr(run.agent_id) for run in runs)
                raise NotFound(f"agent {missing} not found") from None

        await self.rt.db.write_now(record)
        return runs

    async def execute(
        self,
        run: RunRow,
        observe: Observer | None = None,
        on_inputs_recorded: Callable[[AsyncSession], Awaitable[None]] | None = None,
        *,
        resume: bool = False,
        opened: Opened | None = None,
        pieces: PieceObserver | None = None,
    ) -> TurnResult:
        """Run the turn the run's request describes (the caller already marked it running).
        Readers of the run's stream hear of each step and of the end. `resume`: carry on a
        turn a dead process began. `opened`: the lock and start `runs.opening.open_run`
        took and read for it. `pieces`: told each piece the model writes (token streaming)."""
        request = RunRequest.from_json(run.request)
        if resume:
            done = int((run.usage or {}).get("step_count", 0))
            request = replace(request, inputs=[], max_steps=max(0, request.max_steps - done))
        announce = functools.partial(
            self.progress.announce, run.id, other_processes=request.background
        )

        async def observed(messages: list[Message]) -> None:
            await announce()
            if observe is not None:
                await observe(messages)

        try:
            return await self._execute(
                run, request, observed, on_inputs_recorded, resume, opened, pieces
            )
        finally:
            if opened is not None:
                opened.held.release()  # if the turn never took it over
            await announce()

    async def _execute(
        self,
        run: RunRow,
        request: RunRequest,
        observe: Observer,
        on_inputs_recorded: Callable[[AsyncSession], Awaitable[None]] | None,
        resume: bool,
        opened: Opened | None,
        pieces: PieceObserver | None = None,
    ) -> TurnResult:
        """The run inside its `invoke_agent` span, which hears how it ended."""
        # The run's columns read once: each read of a mapped attribute goes through the ORM.
        run_id, agent_id, conversation_id = run.id, run.agent_id, run.conversation_id
        trace_id = run.trace_id or run_id
        with self.rt.telemetry.invoke_agent(
            agent_id=agent_id,
            conversation_id=conversation_id or agent_id,
            run_id=run_id,
            trace_id=trace_id,
            traceparent=request.traceparent,
            tracestate=request.tracestate,
        ) as span:
            turn = Turn(
                agent_id=agent_id,
                run_id=run_id,
                trace_id=trace_id,
                inputs=request.inputs,
                max_steps=request.max_steps,
                chain=request.chain,
                client_tools=request.client_tools,
                model=request.model,
                response_format=request.response_format,
                on_inputs_recorded=on_inputs_recorded,
                records_end=True,
                cancel=self.cancellations.signal_for(run_id),  # released by _execute_turn
                span=span,
                resume=resume,
                conversation_id=conversation_id or "",
                compaction_messages=request.compaction_messages,
                pieces=pieces,
            )
            result = await self._execute_turn(run, request, turn, observe, opened)
            tokens = (result.prompt_tokens, result.completion_tokens)
            fails = fails_run(result.stop_reason)
            span.ended(result.stop_reason, tokens, result.steps, result.error, fails=fails)
            return result

    async def _execute_turn(
        self, run: RunRow, request: RunRequest, turn: Turn, observe: Observer, opened: Opened | None
    ) -> TurnResult:
        signal, opening = turn.cancel, opened.opening if opened else None
        try:
            with signal.armed():  # a cancel abandons the wait for the lock too
                async with opened.held if opened else self.locks.hold(turn.history):
                    result = await run_turn(self.rt, turn, observe, opening)
        except AwaitingApproval:
            if not request.background:
                raise  # the caller answers (a 409, a cross-agent result, a mailbox retry)
            await self.held_runs.hold(run)
            return TurnResult(stop_reason="requires_approval")
        except BaseException as exc:
            if not signal.claims(exc):
                if isinstance(exc, IntegrityError) and await self._deleted(turn.agent_id):
                    # The run went with its agent: the caller hears why, not "retry it".
                    raise NotFound(
                        f"agent {turn.agent_id!r} was deleted while its turn ran; nothing of "
                        "the turn was kept"
                    ) from None
                if isinstance(exc, Exception):
                    await self._finish(
                        turn.run_id, "failed", "error", f"{type(exc).__name__}: {failure_text(exc)}"
                    )
                    self._call_back(run)
                raise
            result = TurnResult(stop_reason="cancelled")  # cancelled before its turn began
        finally:
            self.cancellations.release(turn.run_id)
        if signal.requested:  # the cancel recorded the run's end
            result.stop_reason = "cancelled"
            self._call_back(run)
            return result
        if not result.recorded:  # else the turn's last step already recorded the end
            status = ended_status(result.stop_reason)
            await self._finish(turn.run_id, status, result.stop_reason, result.error)
        self._call_back(run)
        answered = any(i.role == "approval" for i in turn.inputs)
        self.held_runs.release(turn.agent_id, everywhere=answered)
        self._tell_listeners(run, result)
        return result

    async def _deleted(self, agent_id: str) -> bool:
        async with self.rt.db.read() as session:
            return not await agent_store.names_of_agents(session, [agent_id])

    async def cancel_waiting(self, history: History, run_id: str | None = None) -> str | None:
        """Cancel the run whose calls the history waits on (see runs.waiting_cancel); the
        runs held back by the wait go on."""
        cancelled = await cancel_waiting(self.rt, self.locks, history, run_id)
        if cancelled is not None:
            self.held_runs.release(history.agent_id, everywhere=True)
        return cancelled

    def _tell_listeners(self, run: RunRow, result: TurnResult) -> None:
        for listener in self.turn_listeners:
            if not listener.wants(run, result):
                continue

            async def told(listener: TurnListener = listener) -> None:
                try:
                    await listener.after_turn(run, result)
                except Exception:
                    log.exception("a listener of run %s failed", run.id)

            self.spawn(told())

    def _call_back(self, run: RunRow) -> None:
        if run.callback_url and self.callbacks:
            self.spawn(self.callbacks.send(run.id))

    def submit(self, run: RunRow) -> None:
        """Execute a created (background) run in a task, if this process wins the claim."""

        async def claim_and_execute() -> None:
            async with self.rt.db.write() as session:
                claimed = await run_store.claim_run(session, run.id, self.owner)
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
                    await run_store.touch_runs(session, self.cancellations.executing())
                await self.cancellations.catch_up()
                await self.rt.steps.flush_timings()
                await self._recover(startup=False)
                if self.callbacks:
                    await self.callbacks.send_overdue(grace_s=self.stale_after_s)
                if self.upkeep:
                    await self.upkeep()
            except Exception:  # keep maintaining; the next round retries
                log.exception("run maintenance failed")

    async def recover(self) -> None:
        """Recover what dead processes left now (their work was just made overdue)."""
        await self._recover(startup=False)

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
                if not self.cancellations.is_executing(run.id)
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
            # Send-and-wait chains carry on where they stopped (see agent.parked).
            chained = await chain_runs(session, orphans)
            for run in orphans:
                if run.id not in again and run.id not in chained:
                    await run_store.record_end(session, run.id, "failed", "error", INTERRUPTED)
            waiting = await run_store.waiting_runs(
                session, now if startup else now - timedelta(seconds=self.stale_after_s)
            )
        # Runs queued again go at once (not after the wait meant for another process's
        # fresh runs); a run submitted twice is claimed once.
        for run in [*waiting, *(r for r in orphans if r.id in again)]:
            if not self.cancellations.is_executing(run.id):
                self.submit(run)
        for run in chained_roots(orphans, chained):
            self.spawn(self._carry_on(run, begun=run.id in begun))

    async def _carry_on(self, run: RunRow, *, begun: bool) -> None:
        """Carry on an orphaned run of a chain, if no other process (or task) took it."""
        async with self.rt.db.write() as session:
            claimed = await claim_orphan(session, run.id, run.heartbeat_at, self.owner)
        if not claimed:
            return
        try:
            await self.execute(run, resume=begun)
        except Exception:
            log.exception("run %s failed", run.id)
