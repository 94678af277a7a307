"""An agent's history between troupe's rows (one per part: reasoning, reply, tool call,
tool return) and the Agent File's messages (one per model turn, in Letta's role form).
A round trip gives back the same rows, ids aside."""

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from troupe.agent.exchanges import ASSISTANT_TYPES, CALL_TYPES, SEND_MESSAGE_RECEIPT
from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.agent_file import MessageSchema
from troupe.services.views import output_lines
from troupe.store.tables import MessageRow
from troupe.tools.core import REPLY_TOOL

Rows = Sequence[MessageRow]


def _text(text: str | None) -> dict[str, Any]:
    return {"type": "text", "text": text or "", "signature": None}


def _reasoning(text: str | None) -> dict[str, Any]:
    return {"type": "reasoning", "is_native": True, "reasoning": text or "", "signature": None}


def _steps(rows: Rows) -> Iterator[list[MessageRow]]:
    """The rows cut into model turns: an assistant turn is the rows of one step."""
    index = 0
    while index < len(rows):
        group = [rows[index]]
        if rows[index].message_type in ASSISTANT_TYPES:
            while (
                index + 1 < len(rows)
                and rows[index + 1].message_type in ASSISTANT_TYPES
                and rows[index + 1].step_id == group[0].step_id
            ):
                index += 1
                group.append(rows[index])
        yield group
        index += 1


def export_history(system: str, rows: Rows, new_file_id: Callable[[], str]) -> list[MessageSchema]:
    """The file's messages of one agent: its system prompt first, as Letta's history starts,
    then its rows as model turns. `new_file_id()` names each message in the file."""
    first = MessageSchema(id=new_file_id(), role="system", content=[_text(system)])
    out = [first]
    for group in _steps(rows):
        out.extend(_exported_turn(group, new_file_id))
    return out


def _exported_turn(group: list[MessageRow], new_file_id: Callable[[], str]) -> list[MessageSchema]:
    head = group[0]
    common: dict[str, Any] = {"created_at": head.created_at, "otid": head.otid}
    kind = head.message_type
    if kind in {"user_message", "system_message"}:
        role = "user" if kind == "user_message" else "system"
        content = [_text(head.content)]
        return [
            MessageSchema(id=new_file_id(), role=role, content=content, name=head.name, **common)
        ]
    if kind == "tool_return_message":
        returns = [
            {
                "tool_call_id": head.tool_call_id,
                "status": head.tool_status or "success",
                "stdout": output_lines(head.stdout),
                "stderr": output_lines(head.stderr),
                "func_response": head.content,
            }
        ]
        return [
            MessageSchema(
                id=new_file_id(),
                role="tool",
                content=[_text(head.content)],
                name=head.tool_name,
                tool_call_id=head.tool_call_id,
                tool_returns=returns,
                **common,
            )
        ]
    if kind in ASSISTANT_TYPES:
        return _exported_assistant(group, new_file_id, common)
    return []  # an approval's answer is the server's business: its call's result follows


def _exported_assistant(
    group: list[MessageRow], new_file_id: Callable[[], str], common: dict[str, Any]
) -> list[MessageSchema]:
    content: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    replies: list[MessageRow] = []
    for row in group:
        if row.message_type == "reasoning_message":
            content.append(_reasoning(row.content))
        elif row.message_type in CALL_TYPES:
            calls.append(_call(row.tool_call_id or row.id, row.tool_name, row.tool_arguments))
        elif row.tool_call_id:  # a send_message call
            arguments = row.tool_arguments or json.dumps({"message": row.content or ""})
            calls.append(_call(row.tool_call_id, REPLY_TOOL, arguments))
            replies.append(row)
        else:  # a plain-text reply
            content.append(_text(row.content))
    turn = MessageSchema(
        id=new_file_id(), role="assistant", content=content, tool_calls=calls or None, **common
    )
    receipts = [
        MessageSchema(
            id=new_file_id(),
            role="tool",
            content=[_text(SEND_MESSAGE_RECEIPT)],
            name=REPLY_TOOL,
            tool_call_id=row.tool_call_id,
            **common,
        )
        for row in replies
    ]
    return [turn, *receipts]


def _call(call_id: str, name: str | None, arguments: str | None) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name or "", "arguments": arguments or "{}"},
    }


def import_history(messages: Sequence[MessageSchema]) -> list[MessageRow]:
    """The file's messages of one agent as new rows (not yet numbered). The first system
    message is the prompt Letta compiled, which troupe renders itself at every turn; the
    results of send_message calls are receipts troupe's history adds back by itself."""
    rows: list[MessageRow] = []
    replies: set[str] = set()
    calls: set[str] = set()
    for index, message in enumerate(messages):
        when = message.created_at
        if message.role == "system" and index == 0:
            continue
        if message.role in {"user", "system"}:
            kind = f"{message.role}_message"
            rows.append(_row(kind, when, content=_joined(message), name=message.name))
        elif message.role == "assistant":
            rows.extend(_imported_assistant(message, replies, calls))
        elif message.role == "tool" and message.tool_call_id in calls - replies:
            rows.append(_imported_return(message))
    return rows


def _imported_assistant(
    message: MessageSchema, replies: set[str], calls: set[str]
) -> list[MessageRow]:
    step = new_id("step")
    when = message.created_at
    parts = message.content if isinstance(message.content, list) else []
    rows = [
        _row("reasoning_message", when, content=str(p.get("reasoning") or ""), step_id=step)
        for p in parts
        if p.get("type") == "reasoning"
    ]
    text = _joined(message)
    tool_calls = message.tool_calls or []
    if text:
        kind = "reasoning_message" if tool_calls else "assistant_message"
        rows.append(_row(kind, when, content=text, step_id=step))
    for call in tool_calls:
        function = call.get("function") or {}
        call_id, name = str(call.get("id") or new_id("message")), str(function.get("name") or "")
        arguments = str(function.get("arguments") or "{}")
        if len(call_id) > 128 or len(name) > 255:
            raise InvalidInput(f"agent file: message {message.id!r} has a tool call too long")
        calls.add(call_id)
        if name == REPLY_TOOL:
            replies.add(call_id)
            said = _said(arguments)
            rows.append(
                _row("assistant_message", when, content=said, step_id=step,
                     tool_call_id=call_id, tool_arguments=arguments)
            )  # fmt: skip
        else:
            rows.append(
                _row("tool_call_message", when, step_id=step, tool_call_id=call_id,
                     tool_name=name, tool_arguments=arguments)
            )  # fmt: skip
    return rows


def _imported_return(message: MessageSchema) -> MessageRow:
    result = (message.tool_returns or [{}])[0]
    status = "error" if result.get("status") == "error" else "success"
    return _row(
        "tool_return_message",
        message.created_at,
        content=_joined(message),
        tool_call_id=message.tool_call_id,
        tool_name=message.name,
        tool_status=status,
        stdout=_lines(result.get("stdout")),
        stderr=_lines(result.get("stderr")),
    )


def _said(arguments: str) -> str:
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else arguments


def _lines(value: Any) -> str | None:
    if isinstance(value, list):  # [] (a sandboxed tool printed nothing) stays apart from null
        return "\n".join(str(v) for v in value)
    return str(value) if value else None


def _joined(message: MessageSchema) -> str:
    """The message's text parts (Letta writes plain strings too)."""
    if isinstance(message.content, str):
        return message.content
    parts = message.content or []
    return "\n".join(str(p.get("text") or "") for p in parts if p.get("type") == "text")


def _row(kind: str, when: datetime | None, **columns: Any) -> MessageRow:
    return MessageRow(id=new_id("message"), message_type=kind, created_at=when, **columns)
