"""Talking to a group: a group turn answered in full or streamed, the group's messages read
back, and reset. Who speaks when is troupe.messaging.group_chat."""

import asyncio
from collections.abc import AsyncIterator

from troupe.agent.messages import Message
from troupe.agent.token_stream import Piece
from troupe.agent.turn import TurnResult
from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.messaging.group_chat import GroupChat, GroupTurn
from troupe.runs.executor import RunExecutor
from troupe.runs.request import RunRequest, request_for
from troupe.schemas.messages import LettaMessage, LettaResponse, MessageRequest, StopReason
from troupe.services.message_groups import grouped
from troupe.services.messages import StreamEvent, shown, turn_events, usage_of
from troupe.services.pings import Ping
from troupe.services.views import message_view
from troupe.store import Database
from troupe.store import groups as group_store
from troupe.store.groups import GroupBundle
from troupe.store.paging import Page
from troupe.store.tables import RunRow


async def _start(
    db: Database, group_id: str, body: MessageRequest
) -> tuple[GroupBundle, RunRequest]:
    """The group and the request its speakers take in, checked before anything runs."""
    async with db.read() as session:
        group = await group_store.get_group(session, group_id)
    request = request_for(body.input_messages(), body.max_steps, body.include_return_message_types)
    if group.group.manager_type in ("round_robin", "dynamic") and not group.agent_ids:
        raise InvalidInput(f"group {group_id!r} has no agents left to speak: add some first")
    return group, request


def _response(turn: GroupTurn, wanted: list[str] | None) -> LettaResponse:
    result = turn.result
    return LettaResponse(
        messages=grouped([message_view(r) for r in shown(result.rows, wanted)]),
        stop_reason=StopReason(stop_reason=result.stop_reason),
        usage=usage_of(result),
        error=result.error,
        run_id=turn.runs[-1].id if turn.runs else None,
        trace_id=turn.trace_id,
    )


async def send(executor: RunExecutor, group_id: str, body: MessageRequest) -> LettaResponse:
    """Every speaker's turn, then one answer with all they produced, in order."""
    group, request = await _start(executor.rt.db, group_id, body)
    chat = GroupChat(executor)
    # Shielded: if the client goes away, the group's turn still completes and is recorded.
    turn = await asyncio.shield(executor.spawn(chat.run(group, request)))
    return _response(turn, body.include_return_message_types)


async def stream(
    executor: RunExecutor, group_id: str, body: MessageRequest
) -> tuple[str, AsyncIterator[StreamEvent]]:
    """The group turn's trace id, and its events: each speaker's messages as its steps
    complete, then the stop reason and the usage of the whole group turn."""
    group, request = await _start(executor.rt.db, group_id, body)
    queue: asyncio.Queue[list[Message] | Piece | Ping | None] = asyncio.Queue()
    trace_id = new_id("trace")

    async def observe(run: RunRow, rows: list[Message]) -> None:
        await queue.put(rows)

    async def execute() -> TurnResult:
        try:
            turn = await GroupChat(executor).run(group, request, observe, trace_id=trace_id)
            return turn.result
        finally:
            await queue.put(None)

    task = executor.spawn(execute())
    pings = executor.stream_ping_s if body.include_pings else None
    wanted = body.include_return_message_types
    return trace_id, turn_events(queue, task, trace_id, wanted, pings)


async def list_messages(db: Database, group_id: str, page: Page) -> list[LettaMessage]:
    async with db.read() as session:
        await group_store.get_group_row(session, group_id)
        rows = await group_store.group_messages(session, group_id, page)
    return grouped([message_view(r) for r in rows])


async def reset_messages(db: Database, group_id: str) -> None:
    """Delete the group's messages from every member's history (as Letta's reset does)."""
    async with db.write() as session:
        await group_store.get_group_row(session, group_id)
        await group_store.delete_group_messages(session, group_id)
