"""The step loop. One step = compile the context, call the model once, run the tool calls,
persist everything the step produced in one transaction. A turn is steps until the agent
replies, a rule ends it, a step fails, or `max_steps` is reached."""

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.builtins import READ_TOOLS
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.agent.context import (
    HEARTBEAT_PARAMETER,
    render_system_prompt,
    tool_specs,
)
from troupe.agent.history import Window
from troupe.agent.runtime import AgentRuntime
from troupe.agent.tool_rules import ToolRuleSolver, parse_rules
from troupe.errors import TroupeError
from troupe.ids import new_id
from troupe.llm.base import ChatMessage, ModelRequest, ModelResponse, ToolCall
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store import turns as turn_store
from troupe.store.inserts import Statement, execute_statements, insert_statements
from troupe.store.tables import MessageRow, ToolRow, utcnow
from troupe.store.turns import PromptBlock, TurnAgent

log = logging.getLogger("troupe.agent")

StopReason = Literal["end_turn", "max_steps", "error", "cancelled"]
Observer = Callable[[list[MessageRow]], Awaitable[None]]


@dataclass(frozen=True)
class InputMessage:
    role: Literal["user", "system"]
    text: str
    name: str | None = None
    otid: str | None = None
    sender_agent_id: str | None = None


@dataclass(frozen=True)
class Turn:
    agent_id: str
    run_id: str
    trace_id: str
    inputs: list[InputMessage]
    max_steps: int = 50
    chain: tuple[str, ...] = ()
    # Runs inside the transaction that first records the inputs (e.g. marks a delivery done).
    on_inputs_recorded: Callable[[AsyncSession], Awaitable[None]] | None = None
    # The step that ends the turn also records the run's end ("completed", its stop reason
    # and final usage) in its transaction.
    records_end: bool = False


@dataclass
class TurnResult:
    rows: list[MessageRow] = field(default_factory=list)
    stop_reason: StopReason = "end_turn"
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    steps: int = 0
    # True when the last step's transaction recorded the run's end (`Turn.records_end`).
    recorded: bool = False

    def replies(self) -> list[str]:
        """What the agent said with send_message (or as a plain-text reply)."""
        return [r.content or "" for r in self.rows if r.message_type == "assistant_message"]


@dataclass
class _Call:
    """One tool call of a step, from the model's request to its outcome."""

    call: ToolCall
    arguments: dict[str, Any] | None = None
    outcome: ToolOutcome | None = None
    transactional: bool = False
    heartbeat: bool = False
    is_reply: bool = False
    fixed: bool = False  # every required argument came from a rule's prefilled `args`


async def run_turn(rt: AgentRuntime, turn: Turn, observe: Observer | None = None) -> TurnResult:
    """Run one turn of one agent. Callers hold the agent's lock (see messaging.locks)."""
    context = await rt.contexts.read(turn.agent_id)
    agent, tools, blocks, window = context.agent, context.tools, context.blocks, context.window
    # The first step compiles from this same snapshot; later steps read the blocks again
    # (other agents may edit shared ones) and keep the window, which each step extends.
    snapshot: _Snapshot | None = _Snapshot(blocks, window)
    solver = ToolRuleSolver(parse_rules(list(agent.tool_rules)), available=list(tools))
    ctx = ToolCaller(agent.id, agent.name, turn.run_id, turn.trace_id, turn.chain)
    result = TurnResult()
    pending = [_input_row(turn, m) for m in turn.inputs]
    nudge: str | None = None

    for step in range(turn.max_steps):
        allowed = solver.allowed()
        missing = solver.missing_before_exit() if nudge else []
        if missing:
            allowed = [t for t in allowed if t in missing] or missing
        if snapshot is None:
            snapshot = await _read_snapshot(rt, agent.id, window)
        request = _compile(rt, agent, tools, allowed, solver, pending, nudge, snapshot)
        snapshot = None
        started = time.monotonic()
        try:
            model = rt.resolve_model(agent.model)
            response = await model.complete(request)
        except TroupeError as exc:
            return await _fail(rt, turn, result, pending, exc.message, observe)
        except Exception as exc:  # a provider bug must not leave the turn hanging
            log.exception("model call failed for agent %s", agent.id)
            return await _fail(rt, turn, result, pending, f"model call failed: {exc!r}", observe)
        model_ms = int((time.monotonic() - started) * 1000)
        answered_at = utcnow()  # the model's calls are dated when it made them, not when
        # their results (a broadcast may take minutes) are committed with them

        step_id = new_id("step")
        calls = [
            _prepare(c, tools, allowed, rt, solver.prefilled(c.name)) for c in response.tool_calls
        ]
        for item in calls:
            if item.outcome is None and not item.transactional and not item.is_reply:
                item.outcome = await _run_now(rt, ctx, tools, item)
        last = step == turn.max_steps - 1
        try:
            # Under the agent's lock nothing else appends to its history, so the window's
            # newest row tells the next sequence number (no max() query at the write).
            writes = functools.partial(
                _step_writes, turn, agent, step_id, pending, response, calls,
                (model_ms, answered_at), result, window.last_seq,
                functools.partial(_verdict, rt, solver, calls, last=last),
            )  # fmt: skip
            rows, verdict = await _persist_step(rt, turn, ctx, calls, pending, writes)
        except BaseException:
            rt.history.forget(agent.id)
            raise
        rt.history.stored(agent.id, window, rows)
        pending = []
        result.rows.extend(rows)
        result.steps += 1
        result.prompt_tokens += response.usage.prompt_tokens
        result.completion_tokens += response.usage.completion_tokens
        if observe is not None:
            await observe(rows)
        if verdict.stop_reason is not None:
            result.recorded = turn.records_end
            return _done(result, verdict.stop_reason)
        nudge = verdict.nudge
    return _done(result, "max_steps")  # only reached with max_steps < 1


@dataclass(frozen=True)
class _Verdict:
    """After a step: the turn's stop reason, or None to go on (with a nudge, maybe)."""

    stop_reason: StopReason | None = None
    nudge: str | None = None


def _verdict(
    rt: AgentRuntime, solver: ToolRuleSolver, calls: list[_Call], *, last: bool
) -> _Verdict:
    """Whether the turn ends after a step whose tool calls all have their outcomes."""
    for item in calls:
        # A call whose arguments a rule fixed would fail the same way again: the rules move
        # on past it (the model sees the error) instead of demanding it forever.
        succeeded = item.outcome is None or item.outcome.status == "success"
        if succeeded or item.fixed:
            solver.record(item.call.name)
    if not calls:
        return _Verdict("end_turn")
    failed = any(i.outcome is not None and i.outcome.status == "error" for i in calls)
    ending = any(_ends_turn(rt, solver, i) for i in calls)
    if ending and not failed:
        missing = solver.missing_before_exit()
        if not missing:
            return _Verdict("end_turn")
        return _Verdict(
            "max_steps" if last else None, f"Before you finish, call: {', '.join(missing)}."
        )
    if failed or any(i.heartbeat or solver.continues_turn(i.call.name) for i in calls):
        return _Verdict("max_steps" if last else None)
    return _Verdict("end_turn")


def _ends_turn(rt: AgentRuntime, solver: ToolRuleSolver, item: _Call) -> bool:
    """A reply, a tool an exit rule names, or a delivered async send ends the turn."""
    if item.is_reply:
        return item.outcome is None
    if solver.ends_turn(item.call.name):
        return True
    delivered = item.outcome is not None and item.outcome.status == "success"
    return delivered and rt.cross_agent is not None and rt.cross_agent.ends_turn(item.call.name)


def _done(result: TurnResult, stop_reason: StopReason) -> TurnResult:
    result.stop_reason = stop_reason
    return result


@dataclass(frozen=True)
class _Snapshot:
    """What a step compiles from: the agent's blocks and newest history, read together."""

    blocks: list[PromptBlock]
    history: Window


async def _read_snapshot(rt: AgentRuntime, agent_id: str, window: Window) -> _Snapshot:
    async with rt.db.read() as session:
        blocks = await turn_store.prompt_blocks(session, agent_id)
    return _Snapshot(blocks, window)


def _compile(
    rt: AgentRuntime,
    agent: TurnAgent,
    tools: dict[str, ToolRow],
    allowed: list[str],
    solver: ToolRuleSolver,
    pending: list[MessageRow],
    nudge: str | None,
    snapshot: _Snapshot,
) -> ModelRequest:
    blocks, history = snapshot.blocks, snapshot.history
    system = render_system_prompt(agent.system, blocks)
    window = int(agent.llm_config.get("context_window") or 8192)
    budget = int(window * rt.settings.context_fraction) - len(system) // 4
    turns = history.fit(pending, max(budget, 256))
    messages = [ChatMessage(role="system", content=system), *turns]
    if nudge:
        messages.append(ChatMessage(role="system", content=nudge))
    writable = [b.label for b in blocks if not b.read_only]
    specs = tool_specs(
        [tools[name].json_schema for name in allowed if name in tools],
        writable,
        {name: list(solver.prefilled(name)) for name in allowed},
    )
    must = solver.must_call_a_tool() or bool(nudge)
    if must and len(specs) == 1:
        choice = specs[0].name
    elif must and specs:
        choice = "required"
    else:
        choice = "auto"
    max_tokens = agent.llm_config.get("max_tokens")
    return ModelRequest(
        messages=messages,
        tools=specs,
        tool_choice=choice if specs else "auto",
        max_tokens=int(max_tokens) if max_tokens else None,
        temperature=agent.llm_config.get("temperature"),
        cache_key=agent.id,
    )


def _prepare(
    call: ToolCall,
    tools: dict[str, ToolRow],
    allowed: list[str],
    rt: AgentRuntime,
    prefilled: dict[str, Any],
) -> _Call:
    item = _Call(call)
    if call.name not in tools:
        available = ", ".join(sorted(tools)) or "none"
        item.outcome = ToolOutcome.error(
            f"there is no tool named {call.name!r}; your tools: {available}"
        )
        return item
    if call.name not in allowed:
        now = ", ".join(allowed) or "none"
        item.outcome = ToolOutcome.error(
            f"{call.name!r} may not be called now (tool rules); allowed now: {now}"
        )
        return item
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        item.outcome = ToolOutcome.error(
            f"the arguments are not valid JSON ({exc.msg}); send a JSON object"
        )
        return item
    if not isinstance(arguments, dict):
        item.outcome = ToolOutcome.error("the arguments must be a JSON object")
        return item
    item.heartbeat = bool(arguments.pop(HEARTBEAT_PARAMETER, False)) is True
    if prefilled:
        arguments.update(prefilled)
        required = (tools[call.name].json_schema.get("parameters") or {}).get("required", [])
        item.fixed = set(required) <= set(prefilled)
        # The stored call shows what ran: the model's arguments with the prefilled ones.
        item.call = ToolCall(call.id, call.name, json.dumps(arguments, ensure_ascii=False))
    problem = _check_arguments(tools[call.name].json_schema, arguments)
    if problem:
        item.outcome = ToolOutcome.error(problem)
        return item
    item.arguments = arguments
    if call.name == "send_message":
        item.is_reply = True
        if not isinstance(arguments.get("message"), str):
            item.outcome = ToolOutcome.error("send_message needs `message` as text")
    elif call.name in rt.transactional_tools():
        item.transactional = True
    return item


def _check_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    parameters = schema.get("parameters") or {}
    known = set((parameters.get("properties") or {}).keys())
    missing = [p for p in parameters.get("required", []) if p not in arguments]
    unknown = [a for a in arguments if known and a not in known]
    if missing:
        return f"missing required arguments: {', '.join(missing)}"
    if unknown:
        return f"unknown arguments: {', '.join(unknown)}; expected: {', '.join(sorted(known))}"
    return None


async def _run_now(
    rt: AgentRuntime, ctx: ToolCaller, tools: dict[str, ToolRow], item: _Call
) -> ToolOutcome:
    name, arguments = item.call.name, item.arguments or {}
    if name in READ_TOOLS:
        async with rt.db.read() as session:
            return await READ_TOOLS[name](session, ctx, arguments)
    if rt.cross_agent is not None and rt.cross_agent.handles(name):
        return await rt.cross_agent.call(ctx, name, arguments)
    tool = tools[name]
    if tool.tool_type != "custom":
        return ToolOutcome.error(f"{name!r} is not available on this server yet")
    return await rt.user_tools.run(ctx, tool.source_code or "", name, arguments)


async def _persist_step(
    rt: AgentRuntime,
    turn: Turn,
    ctx: ToolCaller,
    calls: list[_Call],
    pending: list[MessageRow],
    writes: Callable[[], tuple[list[MessageRow], "_Verdict", list[Statement]]],
) -> tuple[list[MessageRow], "_Verdict"]:
    """Everything the step produced (`writes()`: its rows, verdict and statements), and its
    transactional tools' effects, in one commit; when the step ends the turn, the run's end
    is recorded in that commit too. A step without transactional tools is known in full
    before its transaction begins, so it may share its commit with other agents' steps
    (see store.shared_writes)."""
    in_transaction = [i for i in calls if i.transactional and i.outcome is None]
    if not in_transaction:
        rows, verdict, statements = writes()
        await rt.db.write_shared(statements, turn.on_inputs_recorded if pending else None)
        return rows, verdict
    async with rt.db.write() as session:
        for item in in_transaction:
            tool = rt.transactional_tools()[item.call.name]
            item.outcome = await tool(session, ctx, item.arguments or {})
        rows, verdict, statements = writes()  # the outcomes are in the rows now
        if pending and turn.on_inputs_recorded is not None:
            await turn.on_inputs_recorded(session)
        await execute_statements(session, statements)
    return rows, verdict


def _step_writes(
    turn: Turn,
    agent: TurnAgent,
    step_id: str,
    pending: list[MessageRow],
    response: ModelResponse,
    calls: list[_Call],
    timing: tuple[int, datetime],
    so_far: TurnResult,
    last_seq: int,
    decide: Callable[[], _Verdict],
) -> tuple[list[MessageRow], _Verdict, list[Statement]]:
    """The step's rows, what it decided, and the statements that store them: its messages
    (numbered after `last_seq`), the step, and the run's usage (or, when the step ends
    the turn and the turn records its run's end, the end too, in one UPDATE)."""
    model_ms, answered_at = timing
    rows = [*pending, *_step_rows(turn, step_id, response, calls, agent, answered_at)]
    message_store.number_rows(agent.id, rows, last_seq)
    usage = _usage_after(so_far, response)
    verdict = decide()
    step = {
        "id": step_id,
        "run_id": turn.run_id,
        "agent_id": agent.id,
        "model": agent.model,
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "model_ms": model_ms,
        "created_at": utcnow(),
    }
    if verdict.stop_reason is not None and turn.records_end:
        run = run_store.end_statement(
            turn.run_id, "completed", verdict.stop_reason, None, usage=usage
        )
    else:
        run = run_store.progress_statement(turn.run_id, usage)
    return rows, verdict, [*insert_statements(rows), run_store.step_statement(step), run]


def _usage_after(so_far: TurnResult, response: ModelResponse) -> dict[str, int]:
    """The run's usage after this step. A run is one turn, so the turn's own running totals
    are the run's: written as they are, with no read of the row first."""
    prompt = so_far.prompt_tokens + response.usage.prompt_tokens
    completion = so_far.completion_tokens + response.usage.completion_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "step_count": so_far.steps + 1,
    }


def _step_rows(
    turn: Turn,
    step_id: str,
    response: ModelResponse,
    calls: list[_Call],
    agent: TurnAgent,
    answered_at: datetime,
) -> list[MessageRow]:
    def row(message_type: str, **fields: Any) -> MessageRow:
        return MessageRow(
            id=new_id("message"),
            message_type=message_type,
            run_id=turn.run_id,
            step_id=step_id,
            trace_id=turn.trace_id,
            name=agent.name,
            created_at=answered_at if message_type != "tool_return_message" else utcnow(),
            **fields,
        )

    rows: list[MessageRow] = []
    thoughts = "\n".join(part for part in (response.reasoning, response.content) if part)
    if not calls:
        if thoughts:  # a plain-text answer with no tool call is the reply
            rows.append(row("assistant_message", content=thoughts))
        return rows
    if thoughts:
        rows.append(row("reasoning_message", content=thoughts))
    for item in calls:
        if item.is_reply and item.outcome is None:
            rows.append(
                row(
                    "assistant_message",
                    content=str((item.arguments or {}).get("message", "")),
                    tool_call_id=item.call.id,
                    tool_arguments=item.call.arguments,
                )
            )
        else:
            rows.append(
                row(
                    "tool_call_message",
                    tool_call_id=item.call.id,
                    tool_name=item.call.name,
                    tool_arguments=item.call.arguments,
                )
            )
    for item in calls:
        if item.outcome is None:
            continue
        rows.append(
            row(
                "tool_return_message",
                content=item.outcome.text,
                tool_call_id=item.call.id,
                tool_name=item.call.name,
                tool_status=item.outcome.status,
                stdout=item.outcome.stdout,
                stderr=item.outcome.stderr,
            )
        )
    return rows


def _input_row(turn: Turn, message: InputMessage) -> MessageRow:
    return MessageRow(
        id=new_id("message"),
        message_type="user_message" if message.role == "user" else "system_message",
        content=message.text,
        name=message.name,
        otid=message.otid,
        sender_agent_id=message.sender_agent_id,
        run_id=turn.run_id,
        trace_id=turn.trace_id,
        created_at=utcnow(),
    )


async def _fail(
    rt: AgentRuntime,
    turn: Turn,
    result: TurnResult,
    pending: list[MessageRow],
    error: str,
    observe: Observer | None,
) -> TurnResult:
    """The model could not be reached: keep the input (nothing the user sent is lost)."""
    rt.history.forget(turn.agent_id)
    if pending:
        async with rt.db.write() as session:
            if turn.on_inputs_recorded is not None:
                await turn.on_inputs_recorded(session)
            await message_store.append_messages(session, turn.agent_id, pending)
        result.rows.extend(pending)
        if observe is not None:
            await observe(pending)
    result.error = error
    return _done(result, "error")
