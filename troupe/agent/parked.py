"""Calls parked on other agents' runs (a send-and-wait). The step that makes such a call
stores it, and the runs it waits on, in one transaction; the call's result is added to that
step when they answer. A crash in between loses nothing: the resumed turn (`Turn.resume`)
finds the call without a result, collects it (running what had not finished), and goes on.
Nothing runs twice: the call and its runs were stored once, and a finished run is read, not
run again."""

import asyncio
from collections.abc import Sequence

from troupe.agent.calls import PlannedCall, parse_arguments
from troupe.agent.deps import LoopDeps
from troupe.agent.history import Window
from troupe.agent.messages import Message
from troupe.agent.prompt import HEARTBEAT_PARAMETER
from troupe.agent.step_messages import StepOrigin, number_messages, tool_return
from troupe.llm.base import ToolCall
from troupe.store import chains
from troupe.store.messages import History
from troupe.store.tables import utcnow
from troupe.tools.calls import ToolCaller, ToolOutcome


async def answer_parked(
    deps: LoopDeps,
    history: History,
    caller: ToolCaller,
    origins: Sequence[StepOrigin],
    parked: Sequence[PlannedCall],
    window: Window,
    before: Sequence[Message],
) -> list[Message]:
    """Wait for the parked calls' outcomes and store their results in the steps that made
    them (`origins`, one per call)."""
    outcomes = await asyncio.gather(*(_collect(caller, item) for item in parked))
    for item, outcome in zip(parked, outcomes, strict=True):
        item.outcome, item.parked = outcome, False
    return await _store_results(deps, history, caller, origins, parked, window, before)


async def give_up_parked(
    deps: LoopDeps,
    history: History,
    caller: ToolCaller,
    origins: Sequence[StepOrigin],
    parked: Sequence[PlannedCall],
    window: Window,
) -> None:
    """A cancelled turn: the calls still waiting get a result saying so (a call without a
    result would leave the history one no model accepts)."""
    waiting = [(o, item) for o, item in zip(origins, parked, strict=True) if item.outcome is None]
    for _, item in waiting:
        item.outcome, item.parked = ToolOutcome.error("cancelled before the reply came"), False
    if waiting:
        await _store_results(
            deps,
            history,
            caller,
            [o for o, _ in waiting],
            [item for _, item in waiting],
            window,
            [],
        )


async def stored_parked(
    deps: LoopDeps, caller: ToolCaller
) -> tuple[list[PlannedCall], list[StepOrigin]]:
    """The calls of the caller's run still waiting on other agents, as the resumed turn
    finds them in the store, with the steps that made them."""
    waiting_tools = [tool.name for tool in deps.registry if tool.waits is not None]
    async with deps.db.read() as session:
        rows = await chains.unanswered_calls(session, caller.run_id, waiting_tools)
    calls, origins = [], []
    for row in rows:
        call = ToolCall(row.tool_call_id or "", row.tool_name or "", row.tool_arguments or "{}")
        arguments = parse_arguments(call.arguments)[0] or {}
        item = PlannedCall(call, builtin=deps.registry.get(call.name), parked=True)
        item.heartbeat = bool(arguments.pop(HEARTBEAT_PARAMETER, False)) is True
        item.arguments = arguments
        calls.append(item)
        origins.append(
            StepOrigin(
                caller.agent_name, caller.run_id, caller.trace_id, row.step_id or "", utcnow()
            )
        )
    return calls, origins


async def _collect(caller: ToolCaller, item: PlannedCall) -> ToolOutcome:
    assert item.builtin is not None
    assert item.builtin.waits is not None
    return await item.builtin.waits.collect(caller, item.call.id)


async def _store_results(
    deps: LoopDeps,
    history: History,
    caller: ToolCaller,
    origins: Sequence[StepOrigin],
    items: Sequence[PlannedCall],
    window: Window,
    before: Sequence[Message],
) -> list[Message]:
    results = [tool_return(origin, item) for origin, item in zip(origins, items, strict=True)]
    number_messages(caller.run_id, list(before), results)
    await deps.steps.append(history, results)
    deps.history.stored(history, window, results)
    return results
