"""The step loop. One step = compile the context, call the model once, run the tool calls,
store everything the step produced in one transaction. A turn is steps until the agent
replies, a rule ends it, a step fails, or `max_steps` is reached."""

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from troupe.agent.approvals import (
    RESPONSE_TYPE,
    AwaitingApproval,
    answered_calls,
    awaiting_calls,
    defer_the_others,
    parse_answers,
    plan_or_hold,
)
from troupe.agent.calls import PlannedCall, run_now, runs_now
from troupe.agent.compaction import Outcome, compact_for_step, compaction_notes, step_usage
from troupe.agent.deps import LoopDeps
from troupe.agent.messages import Message
from troupe.agent.model_call import ModelFailed, ask_model
from troupe.agent.parked import answer_parked, give_up_parked, stored_parked
from troupe.agent.prompt import PLAIN_TEXT_AGENT_TYPES
from troupe.agent.request import Snapshot, StepInput, compile_request, read_snapshot
from troupe.agent.spans import tool_span
from troupe.agent.step_messages import StepOrigin, number_messages, step_messages
from troupe.agent.token_stream import TokenPieces, token_pieces
from troupe.agent.tool_rules import ToolRuleSolver, in_force, parse_rules
from troupe.agent.turn import InputMessage, Turn, TurnResult
from troupe.agent.turn_start import FILE_TOOL, Opening, TurnStart
from troupe.agent.verdict import StopReason, Verdict, decide
from troupe.ids import new_id, otid_at
from troupe.llm.base import ModelResponse
from troupe.store.steps import StepWrite
from troupe.store.tables import utcnow
from troupe.tools.calls import ToolCaller

Observer = Callable[[list[Message]], Awaitable[None]]


@dataclass
class _Progress:
    """A turn in progress: what it read at its start, and what its steps carry over."""

    start: TurnStart
    solver: ToolRuleSolver
    caller: ToolCaller
    pending: list[Message]  # input not stored yet: stored with the next step
    snapshot: Snapshot | None  # what the next step compiles from, if already read
    result: TurnResult = field(default_factory=TurnResult)
    nudge: str | None = None
    answered: list[PlannedCall] | None = None  # the first step runs these, asking no model
    # The current step's start and the time its tool calls took so far (its metrics).
    step_started: datetime | None = None
    tools_ms: int = 0
    compacted: Outcome | None = None  # the summary this step wrote first, if it wrote one
    # Calls of the current step waiting on other agents, and the steps that made them.
    parked: list[PlannedCall] = field(default_factory=list)
    parked_origins: list[StepOrigin] = field(default_factory=list)
    # The current step's answer as streamed (token streaming), whose ids its messages take.
    streamed: TokenPieces | None = None


async def run_turn(
    deps: LoopDeps, turn: Turn, observe: Observer | None = None, opening: Opening | None = None
) -> TurnResult:
    """Run one turn of one agent in one of its histories. Callers hold that history's lock
    (see runs.locks). `opening`: the turn's start as read already, under that lock."""
    start = await (deps.starts.read(turn.history) if opening is None else opening.finish())
    agent = start.agent
    if turn.span is not None:
        turn.span.agent(agent.name, turn.model or agent.model)
    progress = _Progress(
        start=start,
        solver=ToolRuleSolver(
            in_force(parse_rules(list(agent.tool_rules)), start.tools),
            available=list(start.tools),
            every_call_continues=agent.agent_type in PLAIN_TEXT_AGENT_TYPES,
        ),
        caller=ToolCaller(agent.id, agent.name, turn.run_id, turn.trace_id, turn.chain),
        pending=[_input_message(turn, m) for m in turn.inputs],
        # The first step compiles from the turn's opening read; later steps read the
        # blocks again (other agents may edit shared ones) and keep the window.
        snapshot=Snapshot(start.blocks, start.window, start.folders),
        result=TurnResult(sleeptime_group=agent.sleeptime_group),
    )
    progress.answered = None if turn.resume else _answers(deps, turn, start)
    try:
        if turn.resume and (verdict := await _resume_parked(deps, turn, progress)).stop_reason:
            return _done(progress.result, verdict.stop_reason)
        for step in range(turn.max_steps):
            try:
                last = step == turn.max_steps - 1
                messages, verdict = await _step(deps, turn, progress, last=last)
            except ModelFailed as failure:
                return await _fail(deps, turn, progress, failure, observe)
            if observe is not None:
                await observe(messages)
            if verdict.stop_reason is not None:
                # A verdict decided after a parked call's result: no step recorded the end.
                progress.result.recorded = turn.records_end and not progress.parked
                progress.result.error = verdict.error
                return _done(progress.result, verdict.stop_reason)
            progress.nudge = verdict.nudge
    except BaseException as error:
        if not turn.cancel.claims(error):
            raise
        # What finished steps stored stays; the input of the step that was cut is kept too.
        await _keep_pending(deps, turn, progress, observe)
        with turn.cancel.protected():
            await give_up_parked(
                deps,
                turn.history,
                progress.caller,
                progress.parked_origins,
                progress.parked,
                progress.start.window,
            )
        return _done(progress.result, "cancelled")
    return _done(progress.result, "max_steps")  # only reached with max_steps < 1


async def _step(
    deps: LoopDeps, turn: Turn, progress: _Progress, *, last: bool
) -> tuple[list[Message], Verdict]:
    agent, tools, window = progress.start.agent, progress.start.tools, progress.start.window
    turn.cancel.check()  # a safe point: before the model call
    progress.step_started, progress.tools_ms, progress.compacted = utcnow(), 0, None
    progress.streamed = None
    step_id = new_id("step")
    if progress.answered is not None:
        response, model_ms, calls = ModelResponse(), 0, progress.answered
        progress.answered = None
    else:
        response, model_ms, calls = await _ask_and_plan(deps, turn, progress, step_id)
    origin = StepOrigin(agent.name, turn.run_id, turn.trace_id, step_id, utcnow())
    for item in calls:
        if runs_now(item):
            turn.cancel.check()  # a safe point: before each tool call
            with _timing_tools(progress), tool_span(deps, item) as span:
                item.outcome = await run_now(deps, progress.caller, tools, item)
                span.outcome(item.outcome.status, item.outcome.text)
    compose = functools.partial(_compose, turn, progress, origin, response, calls, model_ms, last)
    try:
        with turn.cancel.protected():  # a step's transaction is never cut
            messages, verdict = await _store(deps, turn, progress, calls, compose)
    except BaseException:
        deps.history.forget(turn.history)
        raise
    deps.history.stored(turn.history, window, messages)
    progress.pending = []
    if turn.compaction_messages and progress.compacted is not None:
        notes = compaction_notes(progress.compacted, agent, turn.run_id, origin.step_id)
        messages = [*notes, *messages]
    result = progress.result
    result.rows.extend(messages)
    result.steps += 1
    usage = step_usage(response.usage, progress.compacted)
    result.prompt_tokens += usage.prompt_tokens
    result.completion_tokens += usage.completion_tokens
    progress.parked = [item for item in calls if item.parked]
    if progress.parked:  # the step is stored: now wait for the other agents' answers
        progress.parked_origins = [origin] * len(progress.parked)
        answered = await answer_parked(
            deps,
            turn.history,
            progress.caller,
            progress.parked_origins,
            progress.parked,
            window,
            result.rows,
        )
        messages, verdict = [*messages, *answered], decide(progress.solver, calls, last=last)
        result.rows.extend(answered)
    return messages, verdict


async def _resume_parked(deps: LoopDeps, turn: Turn, progress: _Progress) -> Verdict:
    """A resumed turn first collects the calls its run left waiting on other agents."""
    calls, progress.parked_origins = await stored_parked(deps, progress.caller)
    if not calls:
        return Verdict("max_steps" if turn.max_steps < 1 else None)
    progress.parked = calls
    answered = await answer_parked(
        deps,
        turn.history,
        progress.caller,
        progress.parked_origins,
        calls,
        progress.start.window,
        [],
    )
    progress.result.rows.extend(answered)
    return decide(progress.solver, calls, last=turn.max_steps < 1)


async def _ask_and_plan(
    deps: LoopDeps, turn: Turn, progress: _Progress, step_id: str
) -> tuple[ModelResponse, int, list[PlannedCall]]:
    """The model's answer for this step, its time (ms), and its calls planned."""
    agent, tools, window = progress.start.agent, progress.start.tools, progress.start.window
    snapshot = progress.snapshot or await read_snapshot(
        deps, agent.id, window, with_files=FILE_TOOL in tools
    )
    progress.snapshot = None
    allowed = _allowed(progress.solver, progress.nudge)
    step = StepInput(agent, tools, allowed, progress.pending, progress.nudge, turn.client_tools)
    compiled = compile_request(deps, step, progress.solver, snapshot)
    if compiled.summary_due:
        progress.compacted = await compact_for_step(
            deps, agent, turn.history, window, compiled.budget, turn_started=not progress.pending
        )
        if progress.compacted is not None:
            compiled = compile_request(deps, step, progress.solver, snapshot)
    request = compiled.request
    if turn.response_format is not None:
        request = replace(request, response_format=turn.response_format)
    handle = turn.model or agent.model
    sink = None
    if turn.pieces is not None:
        streamed = token_pieces(
            deps, turn, progress.solver, agent.name, allowed, request, step_id, progress.result.rows
        )
        progress.streamed, sink = streamed, streamed.take
    response, model_ms = await ask_model(deps, agent, handle, request, turn, step_id, sink)
    turn.cancel.check()  # an answer that came after a cancel is dropped
    client_tools = [spec.name for spec in turn.client_tools]
    calls = [
        plan_or_hold(deps, c, tools, allowed, progress.solver, client_tools)
        for c in response.tool_calls
    ]
    defer_the_others(calls)
    return response, model_ms, calls


def _answers(deps: LoopDeps, turn: Turn, start: TurnStart) -> list[PlannedCall] | None:
    """The answered calls a turn that answers waiting calls starts with; a turn of another
    kind may not start while calls wait (the model would see a call with no result)."""
    exchanges = start.window.exchanges
    rows = exchanges[-1].rows if exchanges else []
    answers = [m for m in turn.inputs if m.role == "approval"]
    if not answers:
        if waiting := awaiting_calls(rows):
            raise AwaitingApproval(turn.agent_id, waiting)
        return None
    return answered_calls(deps, start.tools, rows, parse_answers(answers[0].text))


def _allowed(solver: ToolRuleSolver, nudge: str | None) -> list[str]:
    """The tools the rules allow now; after a nudge, only those still missing before exit."""
    allowed = solver.allowed()
    missing = solver.missing_before_exit() if nudge else []
    if missing:
        allowed = [t for t in allowed if t in missing] or missing
    return allowed


Compose = Callable[[], tuple[list[Message], Verdict, StepWrite]]


async def _store(
    deps: LoopDeps, turn: Turn, progress: _Progress, calls: list[PlannedCall], compose: Compose
) -> tuple[list[Message], Verdict]:
    """Everything the step produced (`compose()`: its messages, verdict and write), and its
    transactional tools' effects, in one commit. A step without transactional tools is known
    in full before its transaction begins, so it may share its commit with other agents'
    steps (see store.shared_writes)."""
    before = turn.on_inputs_recorded if progress.pending else None
    if all(item.step_runner() is None for item in calls):
        messages, verdict, write = compose()
        await deps.steps.commit(write, before)
        return messages, verdict
    async with deps.steps.transaction() as session:
        for item in calls:
            if (run := item.step_runner()) is not None:
                with _timing_tools(progress), tool_span(deps, item) as span:
                    item.outcome = await run(session, progress.caller, item.arguments or {})
                    if item.outcome is not None:  # None: parked, waiting on another agent
                        span.outcome(item.outcome.status, item.outcome.text)
        messages, verdict, write = compose()  # the outcomes are in the messages now
        if before is not None:
            await before(session)
        await deps.steps.write_in(session, write)
    return messages, verdict


def _compose(
    turn: Turn,
    progress: _Progress,
    origin: StepOrigin,
    response: ModelResponse,
    calls: list[PlannedCall],
    model_ms: int,
    last: bool,
) -> tuple[list[Message], Verdict, StepWrite]:
    """The step's messages (after the pending input), what it decided, and what it stores.
    A run is one turn, so the turn's running totals are the run's usage: written as they
    are, with no read of the run first. The messages the turn produces are numbered in
    their otids, as Letta numbers the messages of one response."""
    so_far = progress.result
    produced = step_messages(origin, response, calls)
    if progress.streamed is not None:
        progress.streamed.name_messages(produced)
    number_messages(turn.run_id, so_far.rows, produced)
    messages = [*progress.pending, *produced]
    # A call waiting on other agents: the verdict waits for its result (see agent.parked).
    parked = any(item.parked for item in calls)
    verdict = (
        Verdict()
        if parked
        else decide(progress.solver, calls, last=last, cut_short=response.cut_short)
    )
    usage = step_usage(response.usage, progress.compacted)
    prompt = so_far.prompt_tokens + usage.prompt_tokens
    completion = so_far.completion_tokens + usage.completion_tokens
    write = StepWrite(
        history=turn.history,
        # Under the history's lock nothing else appends to it, so the window's
        # newest row tells the next sequence number (no max() query at the write).
        last_seq=progress.start.window.last_seq,
        messages=messages,
        step_id=origin.step_id,
        run_id=turn.run_id,
        model=turn.model or progress.start.agent.model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        model_ms=model_ms,
        started_at=progress.step_started,
        tools_ms=progress.tools_ms,
        usage={
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "step_count": so_far.steps + 1,
        },
        ends_run_with=verdict.stop_reason if turn.records_end else None,
        ends_run_error=verdict.error,
    )
    return messages, verdict, write


@contextmanager
def _timing_tools(progress: _Progress) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        progress.tools_ms += int((time.monotonic() - started) * 1000)


def _input_message(turn: Turn, message: InputMessage) -> Message:
    """The client's otid is kept; without one, the message's own id gives it one."""
    kinds = {"user": "user_message", "system": "system_message", "approval": RESPONSE_TYPE}
    stored = Message(
        kinds[message.role],
        content=message.text,
        images=message.images,
        name=message.name,
        otid=message.otid,
        sender_agent_id=message.sender_agent_id,
        run_id=turn.run_id,
        trace_id=turn.trace_id,
        is_input=True,
    )
    stored.otid = stored.otid or otid_at(stored.id, 0)
    return stored


async def _fail(
    deps: LoopDeps, turn: Turn, progress: _Progress, failure: ModelFailed, observe: Observer | None
) -> TurnResult:
    """The model could not answer: keep the input (nothing the user sent is lost); the
    stop reason says why, as Letta's does."""
    await _keep_pending(deps, turn, progress, observe)
    progress.result.error = str(failure)
    return _done(progress.result, failure.stop_reason)


async def _keep_pending(
    deps: LoopDeps, turn: Turn, progress: _Progress, observe: Observer | None
) -> None:
    """Store the input no step stored, as it is."""
    deps.history.forget(turn.history)
    pending, progress.pending = progress.pending, []
    if pending:
        with turn.cancel.protected():
            await deps.steps.append(turn.history, pending, turn.on_inputs_recorded)
        progress.result.rows.extend(pending)
        if observe is not None:
            await observe(pending)


def _done(result: TurnResult, stop_reason: StopReason) -> TurnResult:
    result.stop_reason = stop_reason
    return result
