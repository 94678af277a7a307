"""Prefixed ids in Letta's style (`agent-<uuid4>`), so SDK users see familiar shapes."""

import uuid
from typing import Literal

IdKind = Literal[
    "agent",
    "block",
    "tool",
    "message",
    "run",
    "passage",
    "delivery",
    "step",
    "trace",
    "summary",
]


def new_id(kind: IdKind) -> str:
    return f"{kind}-{uuid.uuid4()}"
