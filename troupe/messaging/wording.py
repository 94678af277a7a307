"""A delivered cross-agent message as a run input (its text format is
`troupe.schemas.cross_agent`)."""

from collections.abc import Sequence

from troupe.agent.turn import InputMessage


def system_input(text: str, sender_id: str) -> InputMessage:
    """A delivered message as the input of the receiver's run."""
    return InputMessage(role="system", text=text, sender_agent_id=sender_id)


def waits_for_approval(
    caller_name: str, target_name: str, target_id: str, calls: Sequence[tuple[str, str]]
) -> str:
    """What a caller is told when the agent it asked waits for a human to answer its tool
    calls: who waits for whom, and that the caller is not kept waiting."""
    listed = ", ".join(f"{name} (call {call_id})" for call_id, name in calls) or "a tool call"
    return (
        f"{target_name} ({target_id}) is waiting for a human to approve or deny its call of "
        f"{listed}, so it cannot reply now; {caller_name} is not kept waiting. It goes on once "
        "someone answers that approval request."
    )
