"""What a waited-on agent gave back to the agent waiting on it, in Letta's shapes: from the
turn that just ran, or, after a restart, from what its run stored."""

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from troupe.agent.approvals import REQUEST_TYPE, AwaitingApproval
from troupe.agent.turn import TurnResult
from troupe.messaging.wording import waits_for_approval
from troupe.store.tables import RunRow
from troupe.tools.calls import ToolCaller


@dataclass(frozen=True)
class Target:
    id: str
    name: str


@dataclass(frozen=True)
class Reply:
    """What one waited-on target gave back, as Letta's tools answer: `{"agent_id", "response":
    [what it said]}`, or `{"agent_id", "error"}` when it could not answer."""

    status: Literal["success", "error"]
    entry: dict[str, Any]

    @classmethod
    def failed(cls, target: Target, why: str) -> "Reply":
        return cls("error", {"agent_id": target.id, "error": why})


def outcome_of(
    ctx: ToolCaller, target: Target, task: "asyncio.Task[TurnResult]", timeout: float
) -> Reply:
    """What a waited-on turn gave its caller: the target's replies, or why there are none."""
    if task.cancelled():
        return Reply.failed(target, f"{target.name} ({target.id}) was stopped before replying")
    if not task.done():
        return Reply.failed(
            target,
            f"no reply from {target.name} ({target.id}) within {timeout:g} s; "
            "it may still answer later in its own history",
        )
    if isinstance(error := task.exception(), AwaitingApproval):  # it took no message
        return Reply.failed(
            target, waits_for_approval(ctx.agent_name, target.name, target.id, error.calls)
        )
    if task.exception() is not None:
        return Reply.failed(target, f"{target.name} ({target.id}) failed: {task.exception()}")
    result = task.result()
    if result.stop_reason == "requires_approval":  # its turn stopped at a call a human answers
        waiting = [
            (r.tool_call_id or "", r.tool_name or "")
            for r in result.rows
            if r.message_type == REQUEST_TYPE
        ]
        return Reply.failed(
            target, waits_for_approval(ctx.agent_name, target.name, target.id, waiting)
        )
    replies = result.replies()
    if replies:
        return Reply("success", {"agent_id": target.id, "response": replies})
    reason = result.error or f"stop reason {result.stop_reason}"
    return Reply.failed(target, f"{target.name} ({target.id}) finished without replying ({reason})")


def stored_outcome(ctx: ToolCaller, target: Target, run: RunRow, replies: list[str]) -> Reply:
    """The same, read from a run that ended (`replies`: what its agent said)."""
    if replies:
        return Reply("success", {"agent_id": target.id, "response": replies})
    if run.status == "cancelled":
        return Reply.failed(target, f"{target.name} ({target.id}) was stopped before replying")
    if run.stop_reason == "requires_approval":
        return Reply.failed(target, waits_for_approval(ctx.agent_name, target.name, target.id, []))
    if run.status == "failed":
        return Reply.failed(target, f"{target.name} ({target.id}) failed: {run.error}")
    reason = run.error or f"stop reason {run.stop_reason}"
    return Reply.failed(target, f"{target.name} ({target.id}) finished without replying ({reason})")
