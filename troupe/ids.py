"""Prefixed ids in Letta's style (`agent-<uuid4>`), so SDK users see familiar shapes."""

import uuid
from typing import Literal

IdKind = Literal[
    "agent", "block", "tool", "message", "run", "passage", "delivery", "step", "trace",
    "source", "file", "file_agent", "job", "archive", "scheduled_message", "mcp_server",
    "summary",
    "identity",
    "provider",
    "group",
    "process",
    "conv",
]  # fmt: skip


def new_id(kind: IdKind) -> str:
    return f"{kind}-{uuid.uuid4()}"


# Letta numbers the messages of one response in their otids: a UUID whose low 7 bits hold
# the message's index (so up to 128 messages of a response stay distinct).
_OTID_INDEX_BITS = 0x7F


def otid_at(base_id: str, index: int) -> str:
    """The otid of message `index` of the response whose otids derive from `base_id` (an id
    of ours, `kind-<uuid>`): the same UUID with the index in its low 7 bits."""
    raw = uuid.UUID(base_id.split("-", 1)[1]).int
    return str(uuid.UUID(int=(raw & ~_OTID_INDEX_BITS) | (index & _OTID_INDEX_BITS)))
