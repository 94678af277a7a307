# mypy: disable-error-code="empty-body"
# (the functions below are declarations: troupe.messaging.cross_agent_tools runs each name)
"""The cross-agent tools as the model sees them: signature and docstring of each (their
JSON schemas are derived from these, as a user tool's are from its source)."""


def send_message_to_agent_async(message: str, other_agent_id: str) -> str:
    """Send a message to another agent without waiting for a reply. This ends your turn.

    Args:
        message: The message to send.
        other_agent_id: The id of the agent to send it to.
    """


def send_message_to_agent_and_wait_for_reply(message: str, other_agent_id: str) -> str:
    """Send a message to another agent and wait for its reply, which is returned.

    Args:
        message: The message to send.
        other_agent_id: The id of the agent to send it to.
    """


def send_message_to_agents_matching_all_tags(message: str, tags: list[str]) -> list[str]:
    """Send a message to every agent that has all the given tags; returns each one's reply.

    Args:
        message: The message to send.
        tags: The tags an agent must all have to receive the message.
    """


def send_message_to_agents_matching_tags(
    message: str, match_all: list[str], match_some: list[str]
) -> list[str]:
    """Send a message to every agent that has all of match_all and at least one of match_some
    (when it is not empty); returns each one's reply.

    Args:
        message: The message to send.
        match_all: Tags an agent must all have.
        match_some: Tags of which an agent must have at least one; empty means no condition.
    """


def send_message_to_all_agents_in_group(message: str) -> list[str]:
    """Send a message to every agent of the group you supervise; returns each one's reply.

    Args:
        message: The message to send.
    """
