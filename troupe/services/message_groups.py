"""Messages as Letta shows them: the tool calls one model response made in parallel are one
tool_call_message (`tool_calls`), those of them that wait for approval one
approval_request_message (`tool_calls`: answered together, by one approval message), and
their returns one tool_return_message (`tool_returns`), though each is stored on its own."""

from troupe.schemas.messages import (
    ApprovalRequestMessage,
    LettaMessage,
    ToolCallMessage,
    ToolReturnMessage,
)


def grouped(messages: list[LettaMessage]) -> list[LettaMessage]:
    shown: list[LettaMessage] = []
    for message in messages:
        last = shown[-1] if shown else None
        same_step = last is not None and bool(message.step_id) and last.step_id == message.step_id
        if same_step and isinstance(message, ToolCallMessage) and isinstance(last, ToolCallMessage):
            last.tool_calls.append(message.tool_call)
        elif (
            same_step
            and isinstance(message, ApprovalRequestMessage)
            and isinstance(last, ApprovalRequestMessage)
        ):
            last.tool_calls = [*(last.tool_calls or []), message.tool_call]
        elif (
            same_step
            and isinstance(message, ToolReturnMessage)
            and isinstance(last, ToolReturnMessage)
        ):
            last.tool_returns.extend(message.tool_returns)
        else:
            shown.append(message)
    return shown
