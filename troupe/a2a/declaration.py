# mypy: disable-error-code="empty-body"
# (a declaration: troupe.a2a.outbound runs this name)
"""send_message_to_a2a_agent as the model sees it (its JSON schema derives from this)."""


def send_message_to_a2a_agent(message: str, agent_card_url: str) -> str:
    """Send a message to a remote agent that speaks the A2A (Agent2Agent) protocol and wait
    for its reply, which is returned.

    Args:
        message: The message to send.
        agent_card_url: The URL of the remote agent's card, e.g.
            https://example.com/.well-known/agent-card.json
    """
