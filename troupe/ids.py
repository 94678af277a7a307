"""Prefixed ids in Letta's style (`agent-<uuid4>`), so SDK users see familiar shapes.

Made from the bits directly, not through `uuid.UUID` objects: a message makes several ids,
and the objects' construction and formatting were most of their cost. The text is the same
as `str(uuid.uuid4())` gives (tests/test_ids.py), from the same source (`os.urandom`), but
drawn 256 at a time: one getrandom call instead of one per id."""

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
    "agent-env",
]  # fmt: skip


def _dashed(value: int) -> str:
    """A 128-bit value as a UUID's text (8-4-4-4-12 lowercase hex digits)."""
    return _dashes(f"{value:032x}")


def _dashes(h: str) -> str:
    """32 hex digits as a UUID's text."""
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# RFC 4122 version 4 (as uuid.uuid4()): the version and variant bits of a batch, set with
# one `bytes.translate` each: byte 6 of every 16 gets the version nibble 4, byte 8 the
# variant bits 10.
_BATCH = 256
_VERSION = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))
_ready: list[str] = []  # UUIDs' text not handed out yet


def _draw() -> list[str]:
    raw = bytearray(os.urandom(16 * _BATCH))
    raw[6::16] = raw[6::16].translate(_VERSION)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    h = raw.hex()
    return [_dashes(h[i : i + 32]) for i in range(0, 32 * _BATCH, 32)]


def new_id(kind: IdKind) -> str:
    # `list.pop` hands each one out once, whichever thread asks; a thread finding the
    # batch empty draws another (two drawing at once both add theirs: none is lost).
    while True:
        try:
            return f"{kind}-{_ready.pop()}"
        except IndexError:
            _ready.extend(_draw())


# A forked child must not hand out the ids its parent already may.
os.register_at_fork(after_in_child=_ready.clear)


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
