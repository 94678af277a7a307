"""A delivered cross-agent message as a run input (its text format is
`troupe.schemas.cross_agent`)."""

from collections.abc import Mapping, Sequence

from troupe.agent.turn import InputMessage
from troupe.schemas.cross_agent import sent_text


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


def group_chat_input(sender_name: str, sender_id: str, said: str) -> InputMessage:
    """What another member of a group said, as a speaker hears it (headed as a cross-agent
    message is, so traces show who said it)."""
    text = (
        f"[Message from agent {sender_name} ({sender_id})] {said}\n"
        "You are in a group chat: everyone in the group reads what you answer with send_message."
    )
    return InputMessage(role="system", text=text, name=sender_name, sender_agent_id=sender_id)


def speaker_question(
    options: Sequence[str], names: Mapping[str, str], history: Sequence[InputMessage]
) -> InputMessage:
    """What a dynamic group's manager is asked before each turn (as in Letta): who of the
    options should speak next, given the chat so far."""
    chat = "\n".join(f"{m.name or 'user'}: {sent_text(m.text)}" for m in history)
    listed = ", ".join(f"{names[o]} ({o})" for o in options)
    return InputMessage(
        role="user",
        text=(
            "Choose the most suitable agent to reply to the latest message in the group chat "
            f"from the following options: {listed}. Do not respond to the messages yourself, "
            "your task is only to decide the next speaker, not to participate. Answer with "
            f"the name of the next speaker.\nChat history:\n{chat}"
        ),
    )
