"""The core built-in tools (Letta's base set beside the memory tools), each one record:
the reply, conversation search, and archival memory."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import TroupeError
from troupe.schemas.passages import MAX_PASSAGE_CHARS
from troupe.store import agents as agent_store
from troupe.store.passages import NewPassage
from troupe.tools import archival_memory as archival
from troupe.tools import search_args
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.memory import MEMORY_TOOLS
from troupe.tools.memory_search import (
    LEGACY_PAGING,
    archival_memory_search,
    conversation_search,
    run_archival_memory_search,
    run_conversation_search,
)
from troupe.tools.registry import BuiltinTool, ToolRegistry, declare


def send_message(message: str) -> None:
    """Send a message to the user (or the agent that messaged you). This ends your turn.

    Args:
        message: The text of the message.
    """


def archival_memory_insert(content: str, tags: list[str] | None = None) -> str:
    """Store a passage in archival memory, your long-term store outside the context window.

    Args:
        content: The text to store, self-contained: it is found again by meaning.
        tags: Optional labels to filter searches by later.
    """


async def _archival_memory_insert(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    content = arguments.get("content")
    if not isinstance(content, str) or not content.strip():
        return ToolOutcome.error("`content` must be non-empty text")
    if len(content) > MAX_PASSAGE_CHARS:
        return ToolOutcome.error(f"`content` is over {MAX_PASSAGE_CHARS} characters; split it")
    tags = search_args.tags(arguments.get("tags"))
    agent = await agent_store.get_agent_row(session, caller.agent_id)
    try:
        embedder, _ = archival.embedder_for(archival.config_of(agent))
        (vector,) = await archival.embed(embedder, [content])
        await archival.insert_for_agent(session, agent, [NewPassage(content, vector, tags)])
    except TroupeError as exc:
        return ToolOutcome.error(exc.message)
    return ToolOutcome.ok("stored in archival memory")


REPLY_TOOL = "send_message"
CORE_TOOLS: list[BuiltinTool] = [
    declare(send_message, "letta_core", is_reply=True, default_set="base"),
    declare(
        conversation_search,
        "letta_core",
        run_reading=run_conversation_search,
        default_set="base",
        accepts_also=LEGACY_PAGING,
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
        run_reading=run_archival_memory_search,
        default_set="base",
        accepts_also=LEGACY_PAGING,
    ),
    *MEMORY_TOOLS,
]


def core_registry() -> ToolRegistry:
    """A registry holding the core tools; the cross-agent tools register into it at start-up."""
    return ToolRegistry(list(CORE_TOOLS))
