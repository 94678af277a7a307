"""A run's stream read from the store: every event after a sequence id, then the live ones
as the run stores them, until it ends. Each event carries its sequence id (a message's is
its place in the agent's history; the run's error, stop reason and usage follow its last
message), so a reader that reconnects with the last id it saw (`starting_after`) gets each
event exactly once, in order, from whichever server process, and after a restart."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from troupe.runs.executor import RunExecutor
from troupe.runs.request import RunRequest
from troupe.schemas.messages import MessageRequest, Run, StopReason, UsageStatistics
from troupe.schemas.runs import RunStreamRequest
from troupe.services import messages
from troupe.services.messages import StreamEvent, TurnError
from troupe.services.pings import DEFAULT_PING_EVERY_S, Ping
from troupe.services.runs import INPUT_TYPES
from troupe.services.views import message_view, run_view
from troupe.store import runs as run_store
from troupe.store.messages import History
from troupe.store.tables import RunRow

DEFAULT_POLL_S = 1.0  # re-read the store this often even without a wake (a missed notice)
DEFAULT_BATCH = 100


@dataclass(frozen=True)
class Sequenced:
    seq_id: int
    run_id: str
    event: StreamEvent


RunStreamEvent = Sequenced | Ping


@dataclass(frozen=True)
class Reading:
    starting_after: int = 0
    include_pings: bool = True
    ping_s: float = DEFAULT_PING_EVERY_S  # after this long without an event (services.pings)
    poll_s: float = DEFAULT_POLL_S
    batch: int = DEFAULT_BATCH
    message_types: tuple[str, ...] | None = None  # as the run's request asked; None: all


def reading(request: RunStreamRequest) -> Reading:
    return Reading(
        starting_after=request.starting_after,
        include_pings=request.include_pings,
        poll_s=request.poll_interval or DEFAULT_POLL_S,
        batch=request.batch_size or DEFAULT_BATCH,
    )


async def stream(
    executor: RunExecutor, history: History, body: MessageRequest
) -> tuple[Run, AsyncIterator[StreamEvent | RunStreamEvent]]:
    """A streamed turn. With `background`, the run is queued like an async one (it goes on,
    and survives a restart before it began, whatever the client does) and its events are
    read from the store, with their sequence ids, so the client may reconnect
    (POST /v1/runs/{run_id}/stream); else they come straight from the turn."""
    if not body.background:
        row, events = await messages.stream(executor, history, body)
        return run_view(row), events
    run = await messages.send_async(executor, history, body)
    reading = Reading(include_pings=body.include_pings)
    return run, await open_run_stream(executor, run.id, reading)


async def open_run_stream(
    executor: RunExecutor, run_id: str, reading: Reading
) -> AsyncIterator[RunStreamEvent]:
    """The run's events after `reading.starting_after`: what the agent produced (as a live
    stream, not its input), of the message types the run's request asked for. An unknown run
    is refused now, before any event is sent."""
    async with executor.rt.db.read() as session:
        run = await run_store.get_run(session, run_id)
    wanted = RunRequest.from_json(run.request or {}).return_message_types
    reading = replace(reading, message_types=wanted, ping_s=executor.stream_ping_s)
    return _follow(executor, run_id, reading)


async def _follow(
    executor: RunExecutor, run_id: str, reading: Reading
) -> AsyncIterator[RunStreamEvent]:
    db, cursor, wanted = executor.rt.db, reading.starting_after, reading.message_types
    quiet_since = time.monotonic()
    with executor.progress.watching(run_id) as moved:
        while True:
            moved.clear()
            async with db.read() as session:
                run = await run_store.get_run(session, run_id)  # before the messages: an
                # ended run's messages are all stored by the time its end is read
                rows = await run_store.run_messages_after(
                    session, run_id, cursor, reading.batch, leave_out=INPUT_TYPES, only=wanted
                )
                last = await run_store.last_seq_of_run(session, run_id)
            for row in rows:
                cursor = row.seq
                yield Sequenced(row.seq, run_id, message_view(row))
            if len(rows) == reading.batch:
                continue
            if rows:
                quiet_since = time.monotonic()
            if run.status not in run_store.ACTIVE:
                for seq_id, event in enumerate(_ending(run), start=last + 1):
                    if seq_id > cursor:
                        yield Sequenced(seq_id, run_id, event)
                return
            if await _woken(moved, reading, quiet_since):
                continue
            if reading.include_pings and time.monotonic() - quiet_since >= reading.ping_s:
                quiet_since = time.monotonic()
                yield Ping(run_id)


async def _woken(moved: asyncio.Event, reading: Reading, quiet_since: float) -> bool:
    """Wait for the run to move on, at most until the next poll (or ping); whether it did."""
    wait = reading.poll_s
    if reading.include_pings:
        wait = min(wait, max(0.0, quiet_since + reading.ping_s - time.monotonic()))
    try:
        async with asyncio.timeout(wait):
            await moved.wait()
        return True
    except TimeoutError:
        return False


def _ending(run: RunRow) -> list[StreamEvent]:
    """What follows an ended run's messages, as a live stream ends."""
    events: list[StreamEvent] = []
    if run.error:
        events.append(TurnError(run.id, "turn_failed", run.error))
    events.append(StopReason.model_validate({"stop_reason": run.stop_reason or "error"}))
    events.append(UsageStatistics(**(run.usage or {})))
    return events
