"""The stored history as model turns: rows regrouped into assistant turns, and cut into
exchanges (the unit the context window is trimmed by)."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from troupe.llm.base import ChatMessage, ImagePart, ToolCall
from troupe.store.messages import OPENING_TYPES, StoredMessage
from troupe.tools.core import REPLY_TOOL

# An approval request is the model's call like any other; its answer (an
# approval_response_message) is for the server, and the call's result follows it.
CALL_TYPES = frozenset({"tool_call_message", "approval_request_message"})
ASSISTANT_TYPES = frozenset({"reasoning_message", "assistant_message", *CALL_TYPES})
SEND_MESSAGE_RECEIPT = "Sent."


def history_messages(rows: Sequence[StoredMessage]) -> list[ChatMessage]:
    """Stored rows to model turns: rows of one model reply (same step) become one assistant
    message; a send_message call gets the short receipt the model expects back."""
    messages: list[ChatMessage] = []
    index = 0
    while index < len(rows):
        row = rows[index]
        if row.message_type in ASSISTANT_TYPES:
            group = [row]
            while (
                index + 1 < len(rows)
                and rows[index + 1].message_type in ASSISTANT_TYPES
                and rows[index + 1].step_id == row.step_id
            ):
                index += 1
                group.append(rows[index])
            messages.extend(_assistant_turn(group))
        elif row.message_type == "tool_return_message":
            messages.append(
                ChatMessage(
                    role="tool",
                    content=row.content or "",
                    tool_call_id=row.tool_call_id,
                    name=row.tool_name,
                )
            )
        elif row.message_type in {"user_message", "system_message"}:
            # Mid-conversation notices go in as user turns: every provider accepts those.
            images = tuple(ImagePart.from_source(i) for i in row.images or ())
            messages.append(ChatMessage(role="user", content=row.content or "", images=images))
        index += 1
    return messages


def _assistant_turn(group: list[StoredMessage]) -> list[ChatMessage]:
    thoughts = [r.content for r in group if r.message_type == "reasoning_message" and r.content]
    calls: list[ToolCall] = []
    receipts: list[ChatMessage] = []
    for row in group:
        if row.message_type in CALL_TYPES:
            calls.append(
                ToolCall(
                    row.tool_call_id or row.id, row.tool_name or "", row.tool_arguments or "{}"
                )
            )
        elif row.message_type == "assistant_message":
            if row.tool_call_id:  # a send_message call
                arguments = row.tool_arguments or json.dumps({"message": row.content or ""})
                calls.append(ToolCall(row.tool_call_id, REPLY_TOOL, arguments))
                receipts.append(
                    ChatMessage(
                        role="tool",
                        content=SEND_MESSAGE_RECEIPT,
                        tool_call_id=row.tool_call_id,
                        name=REPLY_TOOL,
                    )
                )
            else:  # a plain-text reply
                thoughts.append(row.content or "")
    turn = ChatMessage(
        role="assistant", content="\n".join(thoughts) or None, tool_calls=tuple(calls)
    )
    return [turn, *receipts]


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """A cheap upper-ish estimate (4 characters a token) for trimming the window."""
    total = 0
    for message in messages:
        total += len(message.content or "") // 4 + 4
        total += sum(len(c.arguments) // 4 + 8 for c in message.tool_calls)
    return total


@dataclass(frozen=True)
class Exchange:
    """Rows from one opening (user or system) message up to the next, as model turns: the
    unit the window is trimmed by, so no tool result is ever separated from its call."""

    rows: tuple[StoredMessage, ...]
    messages: tuple[ChatMessage, ...]
    tokens: int


def exchange_of(rows: Sequence[StoredMessage]) -> Exchange:
    messages = tuple(history_messages(rows))
    return Exchange(tuple(rows), messages, estimate_tokens(messages))


def split_exchanges(rows: Sequence[StoredMessage]) -> list[Exchange]:
    """The rows cut at each opening message (rows before the first one form an exchange of
    their own: the tail of one that began earlier)."""
    exchanges: list[Exchange] = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index].message_type in OPENING_TYPES:
            exchanges.append(exchange_of(rows[start:index]))
            start = index
    return exchanges


_TOKENS = attrgetter("tokens")


def first_fitting(exchanges: Sequence[Exchange], budget_tokens: int) -> int:
    """How many of the oldest exchanges must go for the rest to fit the budget; the newest
    exchange stays even when it alone is too long."""
    total, first = sum(map(_TOKENS, exchanges)), 0
    while total > budget_tokens and first < len(exchanges) - 1:
        total -= exchanges[first].tokens
        first += 1
    return first
