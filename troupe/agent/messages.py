"""The loop's own message type: one message in Letta's sense (user, system, reasoning,
assistant, tool call, tool return), as a step produces it. The store numbers and stores it
(store.steps); the API shows it (services.views) as it shows a stored one."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from troupe.ids import new_id
from troupe.store.tables import utcnow


@dataclass
class Message:
    message_type: str
    id: str = field(default_factory=lambda: new_id("message"))
    content: str | None = None
    images: list[dict[str, Any]] | None = None  # a user message's image sources, as sent
    name: str | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None
    tool_status: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    sender_agent_id: str | None = None
    otid: str | None = None
    run_id: str | None = None
    step_id: str | None = None
    trace_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    # Set when the store numbers it: a history is (agent_id, conversation_id), "" the default.
    agent_id: str = ""
    conversation_id: str = ""
    seq: int = 0
    # What the turn was given (not stored as such): a response shows what the agent produced.
    is_input: bool = False
    # A compaction's figures, on the event and summary messages a turn shows (never stored).
    compaction: dict[str, Any] | None = None
