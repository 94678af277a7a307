"""A delivered cross-agent message as a run input (its text format is
`troupe.schemas.cross_agent`)."""

from troupe.agent.loop import InputMessage


def system_input(text: str, sender_id: str) -> InputMessage:
    """A delivered message as the input of the receiver's run."""
    return InputMessage(role="system", text=text, sender_agent_id=sender_id)
