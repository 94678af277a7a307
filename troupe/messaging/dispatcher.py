"""Delivers the mailbox: claims due deliveries (with a lease), runs each target's turn, and
marks the delivery done in the transaction that records the message in the target's history.
Woken right after a send commits (see troupe.store.delivery_wake), and by a poll, which
picks up what no wake announced: retries coming due, leases running out."""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.approvals import AwaitingApproval
from troupe.agent.turn import InputMessage
from troupe.config import MessagingSettings
from troupe.errors import TroupeError
from troupe.messaging import sleeptime
from troupe.messaging.wording import system_input
from troupe.runs.executor import RunExecutor
from troupe.runs.request import RunRequest
from troupe.schemas.cross_agent import delivered_text
from troupe.store import deliveries
from troupe.store.delivery_wake import Watch, watch
from troupe.store.tables import DeliveryRow, utcnow

log = logging.getLogger("troupe.mailbox")


class DeliveryLost(TroupeError):
    """Another worker took this delivery over (our lease ran out): let it finish the job."""


class Dispatcher:
    def __init__(self, executor: RunExecutor, settings: MessagingSettings) -> None:
        self.executor = executor
        self.db = executor.rt.db
        self.settings = settings
        # This process's claim signature: its id, whose liveness survivors can tell (see
        # troupe.runs.takeover).
        self.token = executor.owner
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._watch: Watch | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self.db.is_sqlite:
            async with self.db.write() as session:
                await deliveries.reset_orphans(session)
        self._watch = await watch(self.db, self.wake)
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._loop_task:
            self._loop_task.cancel()
        if self._watch is not None:
            await self._watch.close()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_s)
            self._wake.clear()
            try:
                await self._dispatch_due()
            except Exception:  # the next round retries; a bad row must not stop the mailbox
                log.exception("mailbox dispatch failed")

    async def _dispatch_due(self) -> None:
        room = self.settings.dispatch_concurrency - len(self._in_flight)
        now = utcnow()
        lease_until = now + timedelta(seconds=self.settings.lease_s)
        async with self.db.write() as session:
            # What we hold stays ours while we work on it (a delivery is done only when its
            # first step commits, after the model answered), busiest of all when every slot
            # is taken: renew before anything else.
            await deliveries.renew(session, sorted(self._in_flight), self.token, lease_until)
            if room <= 0:
                return
            claimed = await deliveries.claim(
                session,
                limit=room,
                token=self.token,
                now=now,
                lease_until=lease_until,
                exclude=self._in_flight,
            )
        for delivery in claimed:
            self._in_flight.add(delivery.id)
            self.executor.spawn(self._deliver(delivery))
        if len(claimed) == room:
            self.wake()  # more may be waiting

    async def _deliver(self, delivery: DeliveryRow) -> None:
        try:
            await self._process(delivery)
        except DeliveryLost:
            log.info("delivery %s was taken over by another worker", delivery.id)
        except AwaitingApproval as exc:  # no message until a human answers; it waits too
            await self._retry_later(delivery, exc.message, give_up=False)
        except Exception as exc:
            log.warning("delivery %s could not start: %s", delivery.id, exc)
            await self._retry_later(delivery, str(exc))
        finally:
            self._in_flight.discard(delivery.id)

    async def _process(self, delivery: DeliveryRow) -> None:
        run = await self.executor.create_run(
            delivery.target_agent_id,
            await self._request(delivery),
            background=False,
            trace_id=delivery.trace_id,
            parent_run_id=delivery.sender_run_id,
        )

        async def record_done(session: AsyncSession) -> None:
            if not await deliveries.mark_done(session, delivery.id, self.token, run.id, utcnow()):
                raise DeliveryLost(f"delivery {delivery.id} is no longer ours")
            waited = (utcnow() - delivery.created_at).total_seconds()
            self.executor.rt.telemetry.metrics.delivered(waited)

        await self.executor.execute(run, on_inputs_recorded=record_done)

    async def _request(self, delivery: DeliveryRow) -> RunRequest:
        """The receiver's run: a message from another agent, headed with who sent it and how
        to answer; or a primary's conversation for its sleep-time agent, given as it is."""
        if delivery.kind == sleeptime.KIND:
            return RunRequest(
                inputs=[InputMessage(role="user", text=delivery.message)],
                max_steps=sleeptime.MAX_STEPS,
                delivery_id=delivery.id,
                traceparent=delivery.traceparent,
                tracestate=delivery.tracestate,
            )
        async with self.db.read() as session:
            parties = await deliveries.parties(session, delivery)
        text = delivered_text(
            sender_name=parties.sender_name or "(deleted agent)",
            sender_id=delivery.sender_agent_id or "",
            message=delivery.message,
            receiver_tools=parties.receiver_tools,
            waiting=False,
        )
        return RunRequest(
            inputs=[system_input(text, delivery.sender_agent_id or "")],
            delivery_id=delivery.id,
            traceparent=delivery.traceparent,
            tracestate=delivery.tracestate,
        )

    async def _retry_later(self, delivery: DeliveryRow, error: str, give_up: bool = True) -> None:
        now = utcnow()
        final = give_up and delivery.attempts >= self.settings.max_attempts
        backoff = timedelta(seconds=min(60.0, 0.5 * 2**delivery.attempts))
        async with self.db.write() as session:
            await deliveries.release(
                session,
                delivery.id,
                self.token,
                error=error,
                retry_at=None if final else now + backoff,
                now=now,
            )
