"""The core built-in tools (Letta's base set beside the memory tools), each one record:
the reply, conversation search, and archival memory."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import messages as message_store
from troupe.store import passages as passage_store
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.memory import MEMORY_TOOLS
from troupe.tools.registry import BuiltinTool, ToolRegistry, declare

SEARCH_PAGE = 5


def send_message(message: str) -> None:
    """Send a message to the user (or the agent that messaged you). This ends your turn.

    Args:
        message: The text of the message.
    """


def conversation_search(query: str, page: int | None = 0) -> str:
    """Search your past conversation history for messages containing the query.

    Args:
        query: Words to look for.
        page: Which page of results to return, starting at 0.
    """


def archival_memory_insert(content: str) -> str:
    """Store a passage in archival memory, your long-term store outside the context window.

    Args:
        content: The text to store. Write it so that it can be found again by keyword.
    """


def archival_memory_search(query: str, page: int | None = 0, start: int | None = 0) -> str:
    """Search archival memory for passages matching the query.

    Args:
        query: Words to look for.
        page: Which page of results to return, starting at 0.
        start: How many results to skip.
    """


async def _conversation_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    page = _int(arguments.get("page"), 0)
    rows = await message_store.search_messages(
        session, caller.agent_id, query, limit=SEARCH_PAGE, offset=page * SEARCH_PAGE
    )
    if not rows:
        return ToolOutcome.ok(f"no messages match {query!r}")
    found = [
        {"timestamp": r.created_at.isoformat(), "type": r.message_type, "content": r.content}
        for r in rows
    ]
    return ToolOutcome.ok(json.dumps(found, ensure_ascii=False))


async def _archival_memory_insert(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    content = arguments.get("content")
    if not isinstance(content, str) or not content.strip():
        return ToolOutcome.error("`content` must be non-empty text")
    await passage_store.insert_passage(session, caller.agent_id, content)
    return ToolOutcome.ok("stored in archival memory")


async def _archival_memory_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    page = _int(arguments.get("page"), 0)
    start = _int(arguments.get("start"), 0)
    rows = await passage_store.search_passages(
        session, caller.agent_id, query, limit=SEARCH_PAGE, offset=start + page * SEARCH_PAGE
    )
    if not rows:
        return ToolOutcome.ok(f"no archival memory matches {query!r}")
    found = [{"timestamp": r.created_at.isoformat(), "content": r.text} for r in rows]
    return ToolOutcome.ok(json.dumps(found, ensure_ascii=False))


def _int(value: Any, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


REPLY_TOOL = "send_message"
CORE_TOOLS: list[BuiltinTool] = [
    declare(send_message, "letta_core", is_reply=True, default_set="base"),
    declare(
        conversation_search, "letta_core", run_reading=_conversation_search, default_set="base"
    ),
    declare(
        archival_memory_insert,
        "letta_core",
        run_in_step=_archival_memory_insert,
        default_set="base",
    ),
    declare(
        archival_memory_search,
        "letta_core",
        run_reading=_archival_memory_search,
        default_set="base",
    ),
    *MEMORY_TOOLS,
]


def core_registry() -> ToolRegistry:
    """A registry holding the core tools; the cross-agent tools register into it at start-up."""
    return ToolRegistry(list(CORE_TOOLS))
