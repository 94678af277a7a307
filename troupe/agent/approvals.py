"""Human in the loop, as the step loop sees it.

A call the rules say needs approval (`requires_approval`), or a call of a tool the client runs
itself (`client_tools` of the request), does not run: the step stores it as an
`approval_request_message` and the turn ends with stop reason `requires_approval`. Nothing
else is kept anywhere: the agent's history itself says which calls wait (those of its newest
step with no result yet), so a restart loses nothing.

The answer comes as the next turn's input (an `approval_response_message`, the answers as
JSON in Letta's shapes). That turn begins with a step without a model call: approved calls
run, denied ones get the denial as their result, client-side ones get the result the client
sent; then the turn goes on as usual."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from troupe.agent.calls import PlannedCall, parse_arguments, plan_call
from troupe.agent.deps import LoopDeps
from troupe.agent.messages import Message
from troupe.agent.prompt import HEARTBEAT_PARAMETER
from troupe.agent.tool_rules import ToolRuleSolver
from troupe.errors import Conflict
from troupe.ids import new_id, otid_at
from troupe.llm.base import ToolCall
from troupe.store.messages import StoredMessage
from troupe.store.tables import ToolRow
from troupe.tools.calls import ToolOutcome

REQUEST_TYPE = "approval_request_message"
RESPONSE_TYPE = "approval_response_message"
Awaits = Literal["approval", "client", "deferred"]


@dataclass(frozen=True)
class Answer:
    """One answer to a waiting call, in Letta's shapes: an approval (`approve`, `reason`) or
    the result of a call the client ran (`tool_return`, `status`)."""

    tool_call_id: str
    approve: bool | None = None
    reason: str | None = None
    tool_return: str | None = None
    status: Literal["success", "error"] = "success"
    stdout: list[str] | None = None
    stderr: list[str] | None = None

    @property
    def is_result(self) -> bool:
        return self.tool_return is not None

    def wire(self) -> dict[str, Any]:
        if self.is_result:
            return {
                "type": "tool",
                "tool_call_id": self.tool_call_id,
                "tool_return": self.tool_return,
                "status": self.status,
                "stdout": self.stdout,
                "stderr": self.stderr,
            }
        return {
            "type": "approval",
            "tool_call_id": self.tool_call_id,
            "approve": bool(self.approve),
            "reason": self.reason,
        }


def answers_text(answers: Sequence[Answer]) -> str:
    """The stored content of an approval response: its answers as Letta shows them."""
    return json.dumps([a.wire() for a in answers], ensure_ascii=False)


def parse_answers(text: str) -> list[Answer]:
    answers = []
    for item in json.loads(text or "[]"):
        if item.get("type") == "tool":
            answers.append(
                Answer(
                    item["tool_call_id"],
                    tool_return=str(item.get("tool_return") or ""),
                    status="error" if item.get("status") == "error" else "success",
                    stdout=item.get("stdout"),
                    stderr=item.get("stderr"),
                )
            )
        else:
            answers.append(
                Answer(item["tool_call_id"], bool(item.get("approve")), item.get("reason"))
            )
    return answers


def awaiting_calls(rows: Sequence[StoredMessage]) -> list[StoredMessage]:
    """The calls of the newest step (of `rows`, oldest first) still waiting for an answer."""
    return _unanswered(rows, REQUEST_TYPE)


def deferred_calls(rows: Sequence[StoredMessage]) -> list[StoredMessage]:
    """The calls of the newest step that wait for the answers to its other calls: as Letta
    does, a step whose calls need approval runs none of its calls before the answers."""
    if not awaiting_calls(rows):
        return []
    return _unanswered(rows, "tool_call_message")


def _unanswered(rows: Sequence[StoredMessage], kind: str) -> list[StoredMessage]:
    if not rows or rows[-1].step_id is None:
        return []
    step = [r for r in rows if r.step_id == rows[-1].step_id]
    answered = {r.tool_call_id for r in step if r.message_type == "tool_return_message"}
    return [r for r in step if r.message_type == kind and r.tool_call_id not in answered]


def defer_the_others(calls: Sequence[PlannedCall]) -> None:
    """When calls of a step wait for answers, its other calls still to run wait with them."""
    if any(item.asks for item in calls):
        for item in calls:
            if item.outcome is None and not item.is_reply and not item.awaits:
                item.awaits = "deferred"


class AwaitingApproval(Conflict):
    """The agent waits for answers to tool calls and takes no other message until then."""

    def __init__(self, agent_id: str, waiting: Sequence[StoredMessage]) -> None:
        self.agent_id = agent_id
        self.calls = [(r.tool_call_id or "", r.tool_name or "") for r in waiting]
        listed = ", ".join(f"{name} ({call_id})" for call_id, name in self.calls)
        super().__init__(
            f"agent {agent_id} is waiting for approval of its tool call(s) {listed}. "
            "Please approve or deny the pending request before continuing: send a message "
            "of type `approval` with `approvals` [{tool_call_id, approve, reason}]"
        )


def denial_text(reason: str | None) -> str:
    """What the model is told of a denied call (Letta's wording, which agents are used to)."""
    return f"Error: request to call tool denied. User reason: {reason or 'none given'}"


# Why the calls of a cancelled run were denied (as Letta says it when a waiting run is cancelled).
CANCEL_REASON = "The user cancelled the request, so the tool call was denied."


def cancelled_calls(
    rows: Sequence[StoredMessage], *, run_id: str, trace_id: str | None
) -> list[Message]:
    """What a cancel stores for the calls that wait in the newest step of `rows`: an answer
    denying each, and each call's denial as its result (the deferred calls' too), in a step
    of their own; the history stays a call followed by its result (what providers require),
    and the agent takes new messages again."""
    step_id = new_id("step")
    answers = [Answer(row.tool_call_id or "", False, CANCEL_REASON) for row in awaiting_calls(rows)]
    response = Message(RESPONSE_TYPE, content=answers_text(answers))
    returns = [
        Message(
            "tool_return_message",
            content=denial_text(CANCEL_REASON),
            tool_call_id=row.tool_call_id,
            tool_name=row.tool_name,
            tool_status="error",
        )
        for row in [*deferred_calls(rows), *awaiting_calls(rows)]
    ]
    messages = [response, *returns]
    for message in messages:
        message.run_id, message.step_id, message.trace_id = run_id, step_id, trace_id
    response.otid = otid_at(response.id, 0)
    return messages


def plan_or_hold(
    deps: LoopDeps,
    call: ToolCall,
    tools: dict[str, ToolRow],
    allowed: list[str],
    solver: ToolRuleSolver,
    client_tools: Sequence[str],
) -> PlannedCall:
    """Plan a call of this step; a valid call that needs approval, or a call of a client
    tool, is held (`awaits`) with its arguments as they would run."""
    if call.name in client_tools and call.name not in tools:
        arguments, problem = parse_arguments(call.arguments)
        if arguments is None:
            return PlannedCall(call, outcome=ToolOutcome.error(problem or "bad arguments"))
        arguments.pop(HEARTBEAT_PARAMETER, None)
        item = PlannedCall(call, arguments=arguments, awaits="client")
    else:
        item = plan_call(deps, call, tools, allowed, solver.prefilled(call.name))
        if item.outcome is not None or item.is_reply or not solver.needs_approval(call.name):
            return item
        item.awaits = "approval"
    # The stored request shows what will run: no heartbeat flag (Letta's clients expect none).
    item.call = ToolCall(call.id, call.name, json.dumps(item.arguments or {}, ensure_ascii=False))
    return item


def answered_calls(
    deps: LoopDeps,
    tools: dict[str, ToolRow],
    rows: Sequence[StoredMessage],
    answers: list[Answer],
) -> list[PlannedCall]:
    """The waiting calls of the newest step of `rows` with their answers applied: approved
    ones planned to run (checked again: the tool may have gone since), the others with their
    outcome decided; and the step's deferred calls planned to run."""
    waiting = awaiting_calls(rows)
    by_id = {a.tool_call_id: a for a in answers}
    if not waiting or set(by_id) != {row.tool_call_id for row in waiting}:
        raise Conflict(
            "the answered tool calls are not the ones waiting for approval any more; "
            "list the agent's messages to see what waits"
        )
    calls = []
    for row in deferred_calls(rows):
        call = ToolCall(row.tool_call_id or "", row.tool_name or "", row.tool_arguments or "{}")
        item = plan_call(deps, call, tools, list(tools), {})
        item.heartbeat, item.resumed = True, True
        calls.append(item)
    for row in waiting:
        answer = by_id[row.tool_call_id or ""]
        call = ToolCall(row.tool_call_id or "", row.tool_name or "", row.tool_arguments or "{}")
        if answer.is_result:
            outcome = ToolOutcome(
                answer.status,
                answer.tool_return or "",
                "\n".join(answer.stdout or []) or None,
                "\n".join(answer.stderr or []) or None,
            )
            item = PlannedCall(call, outcome=outcome)
        elif not answer.approve:
            item = PlannedCall(call, outcome=ToolOutcome.error(denial_text(answer.reason)))
        elif call.name not in tools:
            item = PlannedCall(
                call,
                outcome=ToolOutcome.error(
                    f"{call.name!r} runs on the client: send its result as a tool return "
                    "(an approval of type `tool`), not an approval"
                ),
            )
        else:
            item = plan_call(deps, call, tools, list(tools), {})
        # The model asked for the result: the turn goes on to let it see it.
        item.heartbeat, item.resumed = True, True
        calls.append(item)
    return calls
