"""A delivered cross-agent message as a stored run input (its text format is
`troupe.schemas.cross_agent`)."""

from dataclasses import asdict
from typing import Any

from troupe.agent.loop import InputMessage


def system_input(text: str, sender_id: str) -> dict[str, Any]:
    """A delivered message as a stored run input (see `RunExecutor.execute`)."""
    return asdict(InputMessage(role="system", text=text, sender_agent_id=sender_id))
