"""The messages a step produced, in Letta's message types: the model's thoughts, its calls
(a send_message call is the assistant's reply), and the calls' results."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from troupe.agent.calls import PlannedCall
from troupe.agent.messages import Message
from troupe.ids import otid_at
from troupe.llm.base import ModelResponse
from troupe.store.tables import utcnow


@dataclass(frozen=True)
class StepOrigin:
    """Where the step's messages come from."""

    agent_name: str
    run_id: str
    trace_id: str
    step_id: str
    answered_at: datetime  # the model's calls are dated when it made them, not when their
    # results (a broadcast may take minutes) are committed with them


def step_messages(
    origin: StepOrigin, response: ModelResponse, calls: list[PlannedCall]
) -> list[Message]:
    def message(message_type: str, **fields: Any) -> Message:
        return Message(
            message_type,
            run_id=origin.run_id,
            step_id=origin.step_id,
            trace_id=origin.trace_id,
            name=origin.agent_name,
            created_at=origin.answered_at,
            **fields,
        )

    thoughts = "\n".join(part for part in (response.reasoning, response.content) if part)
    if not calls:  # a plain-text answer with no tool call is the reply
        return [message("assistant_message", content=thoughts)] if thoughts else []
    messages = [message("reasoning_message", content=thoughts)] if thoughts else []
    # The calls that wait come last, together: one approval request asks for them all.
    for item in sorted(calls, key=lambda item: item.asks):
        call = item.call
        if item.resumed:  # its call was stored by the step that asked for approval
            continue
        if item.is_reply and item.outcome is None:
            text = str((item.arguments or {}).get("message", ""))
            messages.append(
                message(
                    "assistant_message",
                    content=text,
                    tool_call_id=call.id,
                    tool_arguments=call.arguments,
                )
            )
        else:
            messages.append(
                message(
                    "approval_request_message" if item.asks else "tool_call_message",
                    tool_call_id=call.id,
                    tool_name=call.name,
                    tool_arguments=call.arguments,
                )
            )
    return messages + [tool_return(origin, item) for item in calls if item.outcome is not None]


def tool_return(origin: StepOrigin, item: PlannedCall) -> Message:
    assert item.outcome is not None
    return Message(
        "tool_return_message",
        content=item.returned(),
        tool_call_id=item.call.id,
        tool_name=item.call.name,
        tool_status=item.outcome.status,
        stdout=item.outcome.stdout,
        stderr=item.outcome.stderr,
        run_id=origin.run_id,
        step_id=origin.step_id,
        trace_id=origin.trace_id,
        name=origin.agent_name,
        created_at=utcnow(),
    )


# Parallel calls of one response (and their returns) are shown as one message: one index.
GROUPED = ("tool_call_message", "approval_request_message", "tool_return_message")


def number_messages(run_id: str, before: list[Message], produced: list[Message]) -> None:
    """Give a step's messages their otids: their index among the messages the turn shows
    (after those of its earlier steps), as Letta numbers the messages of one response."""
    index, previous = -1, None
    mine = {id(m) for m in produced}
    for message in [*(row for row in before if not row.is_input), *produced]:
        if not (message.message_type in GROUPED and message.message_type == previous):
            index += 1
        previous = message.message_type
        if id(message) in mine:
            message.otid = otid_at(run_id, index)
