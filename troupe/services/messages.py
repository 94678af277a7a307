"""Talking to an agent: a turn answered in full, streamed as it happens, or run in the
background; and reading an agent's history."""

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from troupe.agent.approvals import answers_text
from troupe.agent.messages import Message
from troupe.agent.token_stream import Piece
from troupe.agent.turn import InputMessage, TurnResult
from troupe.errors import InvalidInput
from troupe.llm.handles import parse_handle
from troupe.runs.executor import RunExecutor
from troupe.runs.opening import Opened, RunCheck, open_run
from troupe.runs.request import RunRequest, request_for
from troupe.schemas.messages import (
    LettaMessage,
    LettaResponse,
    MessageRequest,
    Run,
    StopReason,
    UsageStatistics,
)
from troupe.services import approvals
from troupe.services.agent_settings import check_response_format
from troupe.services.answer_json import answer_json
from troupe.services.conversations import listed_history
from troupe.services.history_head import HeadPlan, system_message, system_message_id
from troupe.services.image_inputs import refuse_images_unseen
from troupe.services.message_groups import grouped
from troupe.services.pings import Keepalive, Ping
from troupe.services.views import message_view, run_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import groups as group_store
from troupe.store import messages as message_store
from troupe.store.failures import failure_text
from troupe.store.messages import History
from troupe.store.paging import Page
from troupe.store.tables import RunRow


@dataclass(frozen=True)
class TurnError:
    """Letta's `error_message` stream event: why the turn failed, before its stop reason."""

    run_id: str
    error_type: str
    message: str


# What a streamed turn yields, in order: its messages as each step completes (with
# `stream_tokens`, the pieces of the model's answers first, as they are written), an error
# if it failed, its stop reason, its usage (troupe.server.sse puts them on the wire); and,
# when the client asked for them, keepalive pings while nothing else is sent.
StreamEvent = LettaMessage | Piece | TurnError | StopReason | UsageStatistics | Ping


async def _request_record(
    db: Database, history: History, body: MessageRequest
) -> tuple[RunRequest, RunCheck | None]:
    """The run's request: the messages to take in, or the answers to the calls the agent
    waits on (checked against them now, so a wrong or stale answer records nothing); and
    what the transaction recording the run checks first (messages: that no call waits)."""
    if body.messages is not None and body.input is not None:
        raise InvalidInput("send either `messages` or `input`, not both")
    answers = body.answers()
    client_tools = tuple(approvals.client_tool_specs(body.client_tools or []))
    per_request = _per_request(body)
    if answers:
        if body.input_messages() or len(answers) > 1:
            raise InvalidInput("an approval (or tool return) must be the only message sent")
        checked = await approvals.checked_answers(db, history, answers[0])
        answer = InputMessage(role="approval", text=answers_text(checked), otid=answers[0].otid)
        types = body.include_return_message_types
        request = RunRequest(
            [answer],
            body.max_steps,
            return_message_types=tuple(types) if types is not None else None,
            client_tools=client_tools,
            **per_request,
        )
        return request, None
    request = request_for(body.input_messages(), body.max_steps, body.include_return_message_types)
    if any(i.images for i in request.inputs):
        await refuse_images_unseen(db, history.agent_id, body.override_model)
    check = functools.partial(approvals.refuse_if_waiting, history=history)
    return replace(request, client_tools=client_tools, **per_request), check


def _per_request(body: MessageRequest) -> dict[str, Any]:
    """This request's own model and response format, checked now (a bad one records
    nothing)."""
    if body.override_model is not None:
        parse_handle(body.override_model)
    check_response_format(body.response_format)
    return {
        "model": body.override_model,
        "response_format": body.response_format,
        "compaction_messages": body.include_compaction_messages,
    }


def shown(rows: list[Message], wanted: list[str] | None) -> list[Message]:
    """What a response shows of a turn's messages: what the agent produced (as Letta, not
    the input it was given), of the types the client asked for."""
    produced = [r for r in rows if not r.is_input]
    return produced if wanted is None else [r for r in produced if r.message_type in wanted]


def _response(result: TurnResult, run: RunRow, wanted: list[str] | None) -> LettaResponse:
    return LettaResponse(
        messages=grouped([message_view(r) for r in shown(result.rows, wanted)]),
        stop_reason=StopReason(stop_reason=result.stop_reason),
        usage=usage_of(result),
        error=result.error,
        run_id=run.id,
        trace_id=run.trace_id,
    )


class TurnAnswer:
    """What a turn answered in full gives: its `LettaResponse`, or straight its JSON bytes
    (services.answer_json, which builds no models for the usual turns)."""

    __slots__ = ("result", "run", "run_id", "trace_id", "wanted")

    def __init__(self, result: TurnResult, run: RunRow, wanted: list[str] | None) -> None:
        self.result = result
        self.run = run
        self.wanted = wanted
        # Read once: each read of an ORM row's attribute is a call of its instrumentation.
        self.run_id: str = run.id
        self.trace_id: str | None = run.trace_id

    def response(self) -> LettaResponse:
        return _response(self.result, self.run, self.wanted)

    def json(self, context: dict[str, Any] | None) -> bytes:
        """The bytes `response()` serialises to with `context` (see schemas.common)."""
        rows = shown(self.result.rows, self.wanted)
        fast = answer_json(self.result, self.run_id, self.trace_id, rows)
        if fast is not None:
            return fast
        model = self.response()
        return model.__pydantic_serializer__.to_json(model, context=context)


def usage_of(result: TurnResult) -> UsageStatistics:
    return UsageStatistics(
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        total_tokens=result.prompt_tokens + result.completion_tokens,
        step_count=result.steps,
    )


async def _open_run(
    executor: RunExecutor, history: History, body: MessageRequest
) -> tuple[RunRow, Opened | None]:
    """The run of the request, recorded in the history's conversation, to execute now
    (with what `RunExecutor.open_run` read and took for it)."""
    request, check = await _request_record(executor.rt.db, history, body)
    conversation_id = history.conversation_id or None
    return await open_run(executor, history, request, check=check, conversation_id=conversation_id)


async def send(executor: RunExecutor, history: History, body: MessageRequest) -> TurnAnswer:
    run, opened = await _open_run(executor, history, body)
    # Shielded: if the client goes away, the turn still completes and is recorded.
    result = await asyncio.shield(executor.spawn(executor.execute(run, opened=opened)))
    return TurnAnswer(result, run, body.include_return_message_types)


async def stream(
    executor: RunExecutor, history: History, body: MessageRequest
) -> tuple[RunRow, AsyncIterator[StreamEvent]]:
    """Validate and start the turn; its run, and its events as they happen."""
    run, opened = await _open_run(executor, history, body)
    queue: asyncio.Queue[list[Message] | Piece | Ping | None] = asyncio.Queue()

    async def observe(rows: list[Message]) -> None:
        await queue.put(rows)

    async def piece(piece: Piece) -> None:
        queue.put_nowait(piece)

    pieces = piece if body.stream_tokens else None

    async def execute() -> TurnResult:
        try:
            return await executor.execute(run, observe, opened=opened, pieces=pieces)
        finally:
            await queue.put(None)

    task = executor.spawn(execute())
    pings = executor.stream_ping_s if body.include_pings else None
    return run, turn_events(queue, task, run.id, body.include_return_message_types, pings)


async def turn_events(
    queue: "asyncio.Queue[list[Message] | Piece | Ping | None]",
    task: "asyncio.Task[TurnResult]",
    run_id: str,
    wanted: list[str] | None,
    ping_every_s: float | None = None,
) -> AsyncIterator[StreamEvent]:
    """The turn's events as its queue receives them; with `ping_every_s`, a `Ping` after
    each such stretch without one (services.pings), until the turn ends or the client
    leaves (the generator is then closed, and its `finally` disarms the timer)."""
    keepalive = None if ping_every_s is None else Keepalive(queue, Ping(run_id), ping_every_s)
    streamed: set[str] = set()  # the ids of the messages shown in pieces already
    try:
        while (item := await queue.get()) is not None:
            if keepalive is not None:
                keepalive.moved()
            if isinstance(item, Piece):
                if wanted is None or item.message_type in wanted:
                    streamed.add(item.id)
                    yield item
                continue
            if isinstance(item, Ping):
                yield item
                continue
            rows = shown(item, wanted)
            if streamed:
                rows = [row for row in rows if row.id not in streamed]
            for message in grouped([message_view(row) for row in rows]):
                yield message
    finally:
        if keepalive is not None:
            keepalive.stop()
    try:
        result = await task
        stop = StopReason(stop_reason=result.stop_reason)
        usage = usage_of(result)
        if result.error:
            yield TurnError(run_id, "turn_failed", result.error)
    except Exception as exc:
        yield TurnError(run_id, "internal_error", failure_text(exc))
        stop, usage = StopReason(stop_reason="error"), UsageStatistics()
    yield stop
    yield usage


async def send_async(executor: RunExecutor, history: History, body: MessageRequest) -> Run:
    request, check = await _request_record(executor.rt.db, history, body)
    run = await executor.create_run(
        history.agent_id,
        request,
        background=True,
        check=check,
        callback_url=body.callback_url,
        conversation_id=history.conversation_id or None,
    )
    executor.submit(run)
    return run_view(run)


async def list_agent_messages(
    db: Database,
    agent_id: str,
    page: Page,
    types: Sequence[str] | None = None,
    *,
    conversation_id: str | None = None,
    group_id: str | None = None,
) -> list[LettaMessage]:
    """`GET /v1/agents/{id}/messages`: the default history, or the conversation's that
    `conversation_id` names (nothing for another agent's), narrowed to a group's turns
    with `group_id`."""
    history = await listed_history(db, agent_id, conversation_id)
    if history is None:
        return []
    return await list_messages(db, history, page, types, group_id=group_id)


async def list_messages(
    db: Database,
    history: History,
    page: Page,
    types: Sequence[str] | None = None,
    *,
    group_id: str | None = None,
) -> list[LettaMessage]:
    """The history, headed by the system message (see services.history_head); only the
    messages of `types` when given, the head among them only if `system_message` is; only
    those of a group's turns with `group_id` (404 for an unknown group), never the head,
    which no turn said."""
    with_head = (types is None or "system_message" in types) and group_id is None
    plan = HeadPlan(page, system_message_id(history.agent_id), with_head=with_head)
    async with db.read() as session:
        bundle = await agent_store.load_bundle(session, history.agent_id, in_context=False)
        if group_id is not None:
            await group_store.get_group_row(session, group_id)
        if plan.rows_page is None:
            return []
        rows = await message_store.list_messages(
            session, history, plan.rows_page, types=types, group_id=group_id
        )
    head: LettaMessage = system_message(bundle.agent, bundle.blocks)
    return grouped(plan.shown([message_view(r) for r in rows], head))
