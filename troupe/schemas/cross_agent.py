"""How a cross-agent message reads to the agent that receives it: who sent it, and how to
answer with the tools the receiver actually has. A format shared by the server (which writes
it), the trace view and the cookbook (which read the sender's words back out of it), so it
lives with the wire schemas and imports nothing of ours."""

import re

ASYNC_TOOL = "send_message_to_agent_async"
SYNC_TOOL = "send_message_to_agent_and_wait_for_reply"


def delivered_text(
    *, sender_name: str, sender_id: str, message: str, receiver_tools: set[str], waiting: bool
) -> str:
    head = f"[Message from agent {sender_name} ({sender_id})] {message}"
    if waiting:
        how = f"{sender_name} is waiting: answer with send_message and it gets your reply."
    elif ASYNC_TOOL in receiver_tools:
        how = f'To reply, call {ASYNC_TOOL} with other_agent_id="{sender_id}".'
    elif SYNC_TOOL in receiver_tools:
        how = f'To reply, call {SYNC_TOOL} with other_agent_id="{sender_id}".'
    else:
        how = "You have no tool for messaging agents, so you cannot reply to it."
    return f"{head}\n{how}"


_FROM = r"\[Message from agent [^\n]*? \((agent-[^)\s]*)\)\] "
HEADER = re.compile("^" + _FROM)
_SENDER = re.compile(_FROM)


def sender_of(text: str) -> str | None:
    """The id of the agent whose delivered message `text` holds, if it holds one."""
    found = _SENDER.search(text)
    return found.group(1) if found else None


def sent_text(delivered: str) -> str:
    """What the sender wrote, from the text `delivered_text` made of it (for traces and
    logs, where the sender is shown anyway); other text comes back as it is."""
    if not HEADER.match(delivered) or "\n" not in delivered:
        return delivered
    return HEADER.sub("", delivered.rsplit("\n", 1)[0], count=1)
