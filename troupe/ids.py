"""Prefixed ids in Letta's style (`agent-<uuid4>`), so SDK users see familiar shapes.

Made from the bits directly, not through `uuid.UUID` objects: a message makes several ids,
and the objects' construction and formatting were most of their cost. The text is the same
as `str(uuid.uuid4())` gives (tests/test_ids.py)."""

import os
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

# RFC 4122 version 4: the version nibble 4, the variant bits 10 (as uuid.UUID(version=4)).
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def _dashed(value: int) -> str:
    """A 128-bit value as a UUID's text (8-4-4-4-12 lowercase hex digits)."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id(kind: IdKind) -> str:
    random = int.from_bytes(os.urandom(16))
    return f"{kind}-{_dashed(random & _CLEAR | _SET)}"


# Letta numbers the messages of one response in their otids: a UUID whose low 7 bits hold
# the message's index (so up to 128 messages of a response stay distinct).
_OTID_INDEX_BITS = 0x7F


def otid_at(base_id: str, index: int) -> str:
    """The otid of message `index` of the response whose otids derive from `base_id` (an id
    of ours, `kind-<uuid>`): the same UUID with the index in its low 7 bits."""
    text = base_id.split("-", 1)[1]
    digits = text.replace("-", "")
    # Our own form is read directly (int() refuses what is not hex, as uuid.UUID does);
    # any other, uuid.UUID accepts or refuses as it always did.
    ours = len(text) == 36 and len(digits) == 32
    raw = int(digits, 16) if ours else uuid.UUID(text).int
    return _dashed((raw & ~_OTID_INDEX_BITS) | (index & _OTID_INDEX_BITS))
