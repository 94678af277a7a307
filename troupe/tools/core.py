"""The core built-in tools (Letta's base set beside the memory tools), each one record:
the reply, conversation search, and archival memory."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import TroupeError
from troupe.schemas.passages import MAX_PASSAGE_CHARS, MAX_QUERY_CHARS, MAX_TAGS
from troupe.schemas.search_limits import MAX_SEARCH_QUERY_CHARS
from troupe.store import agents as agent_store
from troupe.store import archives as archive_store
from troupe.store import messages as message_store
from troupe.store.passages import NewPassage, PassageFilter
from troupe.tools import archival_memory as archival
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


def archival_memory_insert(content: str, tags: list[str] | None = None) -> str:
    """Store a passage in archival memory, your long-term store outside the context window.

    Args:
        content: The text to store, self-contained: it is found again by meaning.
        tags: Optional labels to filter searches by later.
    """


def archival_memory_search(
    query: str, page: int | None = 0, start: int | None = 0, tags: list[str] | None = None
) -> str:
    """Search archival memory for passages about the query (by meaning and by keyword).

    Args:
        query: What to look for, in any words.
        page: Which page of results to return, starting at 0.
        start: How many results to skip.
        tags: Only passages with any of these tags.
    """


async def _conversation_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    if len(query) > MAX_SEARCH_QUERY_CHARS:
        return ToolOutcome.error(
            f"`query` is {len(query)} characters, over {MAX_SEARCH_QUERY_CHARS}; "
            "search with a few distinctive words"
        )
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
    if len(content) > MAX_PASSAGE_CHARS:
        return ToolOutcome.error(f"`content` is over {MAX_PASSAGE_CHARS} characters; split it")
    tags = _tags(arguments.get("tags"))
    agent = await agent_store.get_agent_row(session, caller.agent_id)
    try:
        embedder, _ = archival.embedder_for(archival.config_of(agent))
        (vector,) = await archival.embed(embedder, [content])
        await archival.insert_for_agent(session, agent, [NewPassage(content, vector, tags)])
    except TroupeError as exc:
        return ToolOutcome.error(exc.message)
    return ToolOutcome.ok("stored in archival memory")


async def _archival_memory_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")[:MAX_QUERY_CHARS]
    page = _int(arguments.get("page"), 0)
    start = _int(arguments.get("start"), 0)
    agent = await agent_store.get_agent_row(session, caller.agent_id)
    archives = await archive_store.archives_of_agent(session, agent.id)
    where = PassageFilter([a.id for a in archives], tags=_tags(arguments.get("tags")))
    try:
        embedder, handle = archival.embedder_for(archival.config_of(agent))
        (vector,) = await archival.embed(embedder, [query]) if query.strip() else [None]
    except TroupeError as exc:
        return ToolOutcome.error(exc.message)
    skip = start + page * SEARCH_PAGE
    found = await archival.search(
        session, where, query, skip + SEARCH_PAGE, query_vector=vector, handle=handle
    )
    if not found[skip:]:
        return ToolOutcome.ok(f"no archival memory matches {query!r}")
    shown = [
        {
            "timestamp": f.passage.created_at.isoformat(),
            "content": f.passage.text,
            "tags": f.passage.tags,
        }
        for f in found[skip:]
    ]
    return ToolOutcome.ok(json.dumps(shown, ensure_ascii=False))


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [t for t in value if isinstance(t, str) and 0 < len(t) <= 255][:MAX_TAGS]


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
