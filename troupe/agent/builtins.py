"""What the built-in tools do. Two kinds:

- transactional tools change the store; they run inside the step's write transaction, so
  their effect and the step's messages commit together or not at all;
- immediate tools only read (or wait on other agents); they run before that transaction.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.memory import EDITS, BlockState, MemoryEditError
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.ids import new_id
from troupe.store import messages as message_store
from troupe.store.tables import AgentBlockRow, BlockRow, PassageRow, utcnow

SEARCH_PAGE = 5
EDIT_ATTEMPTS = 20


TransactionalTool = Callable[[AsyncSession, ToolCaller, dict[str, Any]], Awaitable[ToolOutcome]]
ReadTool = Callable[[AsyncSession, ToolCaller, dict[str, Any]], Awaitable[ToolOutcome]]


async def edit_memory(
    session: AsyncSession, ctx: ToolCaller, tool: str, arguments: dict[str, Any]
) -> ToolOutcome:
    """Apply a memory edit to the block's current value. The UPDATE only lands if the version
    is still the one the edit was computed on; otherwise a concurrent edit won the race and
    this one is recomputed on top of it: never lost, never applied to a stale value."""
    arguments = dict(arguments)
    label = arguments.pop("label", None)
    if not isinstance(label, str):
        return ToolOutcome.error("`label` is required: the label of one of your memory blocks")
    edit = EDITS[tool]
    for _ in range(EDIT_ATTEMPTS):
        block = await _block_of(session, ctx.agent_id, label)
        if block is None:
            labels = ", ".join(await _labels(session, ctx.agent_id)) or "none"
            return ToolOutcome.error(
                f"you have no memory block labelled {label!r}; your blocks: {labels}"
            )
        state = BlockState(block.label, block.value, block.char_limit, block.read_only)
        try:
            new_value = edit(state, **arguments)
        except MemoryEditError as exc:
            return ToolOutcome.error(str(exc))
        except TypeError as exc:
            return ToolOutcome.error(f"wrong arguments for {tool}: {exc}")
        result = await session.execute(
            update(BlockRow)
            .where(BlockRow.id == block.id, BlockRow.version == block.version)
            .values(value=new_value, version=block.version + 1, updated_at=utcnow())
        )
        if getattr(result, "rowcount", 0) == 1:
            return ToolOutcome.ok(
                f"memory block {label!r} updated ({len(new_value)}/{block.char_limit} characters)"
            )
    return ToolOutcome.error(f"memory block {label!r} is changing too fast; try again")


async def _block_of(session: AsyncSession, agent_id: str, label: str) -> BlockRow | None:
    stmt = (
        select(BlockRow)
        .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
        .where(AgentBlockRow.agent_id == agent_id, AgentBlockRow.label == label)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _labels(session: AsyncSession, agent_id: str) -> list[str]:
    stmt = select(AgentBlockRow.label).where(AgentBlockRow.agent_id == agent_id)
    return sorted((await session.execute(stmt)).scalars())


async def archival_memory_insert(
    session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    content = arguments.get("content")
    if not isinstance(content, str) or not content.strip():
        return ToolOutcome.error("`content` must be non-empty text")
    session.add(PassageRow(id=new_id("passage"), agent_id=ctx.agent_id, text=content))
    return ToolOutcome.ok("stored in archival memory")


async def archival_memory_search(
    session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    page = _int(arguments.get("page"), 0)
    start = _int(arguments.get("start"), 0)
    rows = await message_store.search_passages(
        session, ctx.agent_id, query, limit=SEARCH_PAGE, offset=start + page * SEARCH_PAGE
    )
    if not rows:
        return ToolOutcome.ok(f"no archival memory matches {query!r}")
    found = [{"timestamp": r.created_at.isoformat(), "content": r.text} for r in rows]
    return ToolOutcome.ok(json.dumps(found, ensure_ascii=False))


async def conversation_search(
    session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    page = _int(arguments.get("page"), 0)
    rows = await message_store.search_messages(
        session, ctx.agent_id, query, limit=SEARCH_PAGE, offset=page * SEARCH_PAGE
    )
    if not rows:
        return ToolOutcome.ok(f"no messages match {query!r}")
    found = [
        {"timestamp": r.created_at.isoformat(), "type": r.message_type, "content": r.content}
        for r in rows
    ]
    return ToolOutcome.ok(json.dumps(found, ensure_ascii=False))


def _int(value: Any, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


def _memory_tool(name: str) -> TransactionalTool:
    async def run(
        session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any]
    ) -> ToolOutcome:
        return await edit_memory(session, ctx, name, arguments)

    return run


TRANSACTIONAL_TOOLS: dict[str, TransactionalTool] = {
    **{name: _memory_tool(name) for name in EDITS},
    "archival_memory_insert": archival_memory_insert,
}
READ_TOOLS: dict[str, ReadTool] = {
    "archival_memory_search": archival_memory_search,
    "conversation_search": conversation_search,
}
