"""Letta's first Agent File format ("v1", written before Letta 0.8 and by 0.1.x scripts that
saved `export_agent_serialized()`): one agent with its blocks (`core_memory`), tools, tags
and messages inline. Read by turning it into the current format, so one importer serves
both."""

from typing import Any

from troupe.errors import InvalidInput

_BLOCK_FIELDS = ("label", "value", "limit", "description", "is_template", "template_name")
_MESSAGE_FIELDS = ("role", "content", "name", "tool_calls", "tool_call_id", "tool_returns",
                   "created_at", "model")  # fmt: skip
_AGENT_FIELDS = ("name", "system", "agent_type", "description", "llm_config",
                 "embedding_config", "tool_rules", "message_buffer_autoclear")  # fmt: skip


def is_legacy(document: dict[str, Any]) -> bool:
    return "agents" not in document and "core_memory" in document


def upgraded(document: dict[str, Any]) -> dict[str, Any]:
    """The v1 document as a v2 one (file ids numbered in order)."""
    blocks = [
        {**{k: b[k] for k in _BLOCK_FIELDS if k in b}, "metadata": b.get("metadata_"),
         "id": f"block-{i}"}
        for i, b in enumerate(_objects(document, "core_memory"))
    ]  # fmt: skip
    tools = [{**t, "id": f"tool-{i}"} for i, t in enumerate(_objects(document, "tools"))]
    messages = [
        {**{k: m[k] for k in _MESSAGE_FIELDS if k in m}, "content": _content(m),
         "id": f"message-{i}"}
        for i, m in enumerate(_objects(document, "messages"))
    ]  # fmt: skip
    agent = {
        **{k: document[k] for k in _AGENT_FIELDS if k in document},
        "id": "agent-0",
        "metadata": document.get("metadata_"),
        "tags": [t.get("tag") for t in _objects(document, "tags")],
        "block_ids": [b["id"] for b in blocks],
        "tool_ids": [t["id"] for t in tools],
        "messages": messages,
    }
    return {
        "agents": [agent],
        "groups": [],
        "blocks": blocks,
        "files": [],
        "sources": [],
        "tools": tools,
        "mcp_servers": [],
    }


def _objects(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"the file is not an agent file: {key} is not a list of objects")
    return items


def _content(message: dict[str, Any]) -> Any:
    """Letta's oldest messages carry `text`; later ones a list of content parts."""
    if message.get("content") is None and isinstance(message.get("text"), str):
        return [{"type": "text", "text": message["text"]}]
    return message.get("content")
