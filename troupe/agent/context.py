"""Compile what the model sees at one step: the system prompt with the memory blocks as they
are in the store right now, then the recent history regrouped into model turns."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from troupe.llm.base import ChatMessage, ToolCall, ToolSpec
from troupe.store.messages import OPENING_TYPES, StoredMessage
from troupe.store.turns import PromptBlock

HEARTBEAT_PARAMETER = "request_heartbeat"
# Tools after which the turn ends anyway: a heartbeat flag on them would only confuse a model.
NO_HEARTBEAT_TOOLS = frozenset({"send_message", "send_message_to_agent_async"})
MEMORY_TOOLS = frozenset(
    {
        "core_memory_append",
        "core_memory_replace",
        "memory_insert",
        "memory_replace",
        "memory_rethink",
    }
)
ASSISTANT_TYPES = frozenset({"reasoning_message", "assistant_message", "tool_call_message"})
SEND_MESSAGE_RECEIPT = "Sent."


def render_system_prompt(system: str, blocks: Sequence[PromptBlock]) -> str:
    if not blocks:
        return system
    parts = [system, "", "<memory_blocks>"]
    for block in blocks:
        attributes = f'chars="{len(block.value)}/{block.char_limit}"'
        if block.read_only:
            attributes += " read_only"
        parts.append(f"<{block.label} {attributes}>")
        if block.description:
            parts.append(f"<description>{block.description}</description>")
        parts.append(block.value)
        parts.append(f"</{block.label}>")
    parts.append("</memory_blocks>")
    return "\n".join(parts)


def tool_specs(
    schemas: Sequence[Mapping[str, Any]],
    writable_labels: Sequence[str] = (),
    prefilled: Mapping[str, Sequence[str]] | None = None,
) -> list[ToolSpec]:
    """The tools as offered to the model: each but the turn-ending ones with a heartbeat flag,
    memory tools' `label` limited to the agent's own writable blocks (a model cannot then
    invent a label, and a constrained local model cannot even spell one wrong), and without
    the parameters a tool rule prefills (the rule's values are used whatever the model says)."""
    specs = []
    for schema in schemas:
        name = str(schema["name"])
        parameters = dict(schema.get("parameters") or {"type": "object", "properties": {}})
        fixed = set((prefilled or {}).get(name, ()))
        if fixed:
            kept = {k: v for k, v in (parameters.get("properties") or {}).items() if k not in fixed}
            required = [r for r in parameters.get("required") or [] if r not in fixed]
            parameters = {**parameters, "properties": kept, "required": required}
        if name in MEMORY_TOOLS and writable_labels and "label" in parameters.get("properties", {}):
            properties = dict(parameters["properties"])
            properties["label"] = {**properties["label"], "enum": list(writable_labels)}
            parameters = {**parameters, "properties": properties}
        if name not in NO_HEARTBEAT_TOOLS:
            properties = dict(parameters.get("properties") or {})
            properties[HEARTBEAT_PARAMETER] = {
                "type": "boolean",
                "description": "true to be called again after this tool returns",
            }
            parameters = {**parameters, "properties": properties}
        specs.append(ToolSpec(name, str(schema.get("description") or ""), parameters))
    return specs


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
            messages.append(ChatMessage(role="user", content=row.content or ""))
        index += 1
    return messages


def _assistant_turn(group: list[StoredMessage]) -> list[ChatMessage]:
    thoughts = [r.content for r in group if r.message_type == "reasoning_message" and r.content]
    calls: list[ToolCall] = []
    receipts: list[ChatMessage] = []
    for row in group:
        if row.message_type == "tool_call_message":
            calls.append(
                ToolCall(
                    row.tool_call_id or row.id, row.tool_name or "", row.tool_arguments or "{}"
                )
            )
        elif row.message_type == "assistant_message":
            if row.tool_call_id:  # a send_message call
                arguments = row.tool_arguments or json.dumps({"message": row.content or ""})
                calls.append(ToolCall(row.tool_call_id, "send_message", arguments))
                receipts.append(
                    ChatMessage(
                        role="tool",
                        content=SEND_MESSAGE_RECEIPT,
                        tool_call_id=row.tool_call_id,
                        name="send_message",
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


def fit_exchanges(exchanges: Sequence[Exchange], budget_tokens: int) -> list[ChatMessage]:
    """The exchanges' turns, without the oldest exchanges as far as needed to fit the budget;
    the newest exchange stays even when it alone is too long."""
    total, first = sum(e.tokens for e in exchanges), 0
    while total > budget_tokens and first < len(exchanges) - 1:
        total -= exchanges[first].tokens
        first += 1
    return [message for exchange in exchanges[first:] for message in exchange.messages]
