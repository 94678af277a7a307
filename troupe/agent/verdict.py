"""After a step: does the turn end (and why), or go on (with a nudge, maybe)?"""

from dataclasses import dataclass
from typing import Literal

from troupe.agent.calls import PlannedCall
from troupe.agent.tool_rules import ToolRuleSolver

# What a turn of the loop ends with; the failing ones are Letta's (see schemas.stop_reasons).
StopReason = Literal[
    "end_turn",
    "tool_rule",
    "max_steps",
    "cancelled",
    "requires_approval",
    "error",
    "llm_api_error",
    "invalid_llm_response",
    "max_tokens_exceeded",
]

CUT_SHORT = (
    "the model's answer was cut short at its output limit (max_tokens) before it finished: "
    "raise the agent's max_tokens, or ask for a shorter answer"
)


@dataclass(frozen=True)
class Verdict:
    stop_reason: StopReason | None = None  # None: the turn goes on
    nudge: str | None = None
    error: str | None = None  # why the turn failed, when its stop reason fails the run


def decide(
    solver: ToolRuleSolver, calls: list[PlannedCall], *, last: bool, cut_short: bool = False
) -> Verdict:
    """Whether the turn ends after a step whose tool calls all have their outcomes.
    `cut_short`: the model's answer stopped at its output limit."""
    for item in calls:
        # A call whose arguments a rule fixed would fail the same way again: the rules move
        # on past it (the model sees the error) instead of demanding it forever.
        succeeded = item.outcome is None or item.outcome.status == "success"
        if succeeded or item.fixed:
            solver.record(item.call.name)
    if not calls:
        # A plain answer ends the turn, unless a tool required before exit is still uncalled
        # (the model is told which, as Letta's loop tells it, and the turn goes on: at its
        # last step it has run out of steps); one the output limit cut fails it, as in
        # Letta (a call cut short does not parse: its error goes back to the model).
        missing = solver.missing_before_exit()
        if missing:
            return Verdict("max_steps") if last else Verdict(None, _missing_nudge(missing))
        return Verdict("max_tokens_exceeded", error=CUT_SHORT) if cut_short else Verdict("end_turn")
    if any(item.awaits for item in calls):  # a human or the client answers first
        return Verdict("requires_approval")
    failed = any(i.outcome is not None and i.outcome.status == "error" for i in calls)
    ending = any(_ends_turn(solver, i) for i in calls)
    if ending and not failed:
        missing = solver.missing_before_exit()
        if not missing:
            # Letta's loop names a turn a terminal rule ended `tool_rule`; a reply is a turn's
            # natural end even where a rule names it.
            ruled = any(not i.is_reply and solver.ends_turn(i.call.name) for i in calls)
            return Verdict("tool_rule" if ruled else "end_turn")
        return Verdict("max_steps" if last else None, _missing_nudge(missing))
    if failed or any(i.heartbeat or solver.continues_turn(i.call.name) for i in calls):
        return Verdict("max_steps" if last else None)
    return Verdict("end_turn")


def _ends_turn(solver: ToolRuleSolver, item: PlannedCall) -> bool:
    """A reply, a tool an exit rule names, or a successful call of a tool that ends the
    turn (an async send) ends the turn."""
    if item.is_reply:
        return item.outcome is None
    if solver.ends_turn(item.call.name):
        return True
    succeeded = item.outcome is not None and item.outcome.status == "success"
    return succeeded and item.builtin is not None and item.builtin.ends_turn


def _missing_nudge(missing: list[str]) -> str:
    return f"Before you finish, call: {', '.join(missing)}."
