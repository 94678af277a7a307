"""What is attached to an agent: its blocks and tools (in attachment order) and its tags."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.paging import Key, Page, by_position, fetch_page
from troupe.store.tables import AgentBlockRow, AgentTagRow, AgentToolRow, BlockRow, ToolRow


async def attach_blocks(
    session: AsyncSession, agent_id: str, blocks: Sequence[tuple[str, str]], *, start: int = 0
) -> None:
    """Attach `blocks` ((id, label) pairs) in order, at positions from `start`."""
    if blocks:
        await session.execute(
            insert(AgentBlockRow),
            [
                {"agent_id": agent_id, "block_id": block_id, "label": label, "position": i}
                for i, (block_id, label) in enumerate(blocks, start=start)
            ],
        )


async def attach_tools(
    session: AsyncSession, agent_id: str, tool_ids: Sequence[str], *, start: int = 0
) -> None:
    """Attach the tools in order, at positions from `start`."""
    if tool_ids:
        await session.execute(
            insert(AgentToolRow),
            [
                {"agent_id": agent_id, "tool_id": tool_id, "position": i}
                for i, tool_id in enumerate(tool_ids, start=start)
            ],
        )


async def add_tags(session: AsyncSession, agent_id: str, tags: Sequence[str]) -> None:
    if tags:
        await session.execute(
            insert(AgentTagRow), [{"agent_id": agent_id, "tag": tag} for tag in tags]
        )


async def replace_blocks(
    session: AsyncSession, agent_id: str, blocks: Sequence[tuple[str, str]]
) -> None:
    await session.execute(delete(AgentBlockRow).where(AgentBlockRow.agent_id == agent_id))
    await attach_blocks(session, agent_id, blocks)


async def replace_tools(session: AsyncSession, agent_id: str, tool_ids: Sequence[str]) -> None:
    await session.execute(delete(AgentToolRow).where(AgentToolRow.agent_id == agent_id))
    await attach_tools(session, agent_id, tool_ids)


async def replace_tags(session: AsyncSession, agent_id: str, tags: Sequence[str]) -> None:
    await session.execute(delete(AgentTagRow).where(AgentTagRow.agent_id == agent_id))
    await add_tags(session, agent_id, tags)


async def detach_block(session: AsyncSession, agent_id: str, block_id: str) -> None:
    await session.execute(
        delete(AgentBlockRow).where(
            AgentBlockRow.agent_id == agent_id, AgentBlockRow.block_id == block_id
        )
    )


async def detach_tool(session: AsyncSession, agent_id: str, tool_id: str) -> None:
    await session.execute(
        delete(AgentToolRow).where(
            AgentToolRow.agent_id == agent_id, AgentToolRow.tool_id == tool_id
        )
    )


async def next_block_position(session: AsyncSession, agent_id: str) -> int:
    return await _next_position(session, AgentBlockRow.position, AgentBlockRow.agent_id, agent_id)


async def next_tool_position(session: AsyncSession, agent_id: str) -> int:
    return await _next_position(session, AgentToolRow.position, AgentToolRow.agent_id, agent_id)


async def _next_position(session: AsyncSession, position: Key, owner: Key, agent_id: str) -> int:
    """The position after the agent's last attachment (0 for its first)."""
    stmt = select(func.coalesce(func.max(position), -1)).where(owner == agent_id)
    return int((await session.execute(stmt)).scalar_one()) + 1


async def page_of_blocks(session: AsyncSession, agent_id: str, page: Page) -> list[BlockRow]:
    """One page of an agent's blocks, in attachment order."""
    link = AgentBlockRow.agent_id == agent_id
    stmt = select(BlockRow).join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id).where(link)
    ordering = by_position(AgentBlockRow.position, AgentBlockRow.block_id, link)
    return await fetch_page(session, stmt, ordering, page)


async def page_of_tools(session: AsyncSession, agent_id: str, page: Page) -> list[ToolRow]:
    """One page of an agent's tools, in attachment order."""
    link = AgentToolRow.agent_id == agent_id
    stmt = select(ToolRow).join(AgentToolRow, AgentToolRow.tool_id == ToolRow.id).where(link)
    ordering = by_position(AgentToolRow.position, AgentToolRow.tool_id, link)
    return await fetch_page(session, stmt, ordering, page)


async def blocks_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[BlockRow]]:
    """Every block of each agent, in attachment order, in one query."""
    return await _of_agents(session, AgentBlockRow, BlockRow, AgentBlockRow.block_id, agent_ids)


async def tools_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[ToolRow]]:
    """Every tool of each agent, in attachment order, in one query."""
    return await _of_agents(session, AgentToolRow, ToolRow, AgentToolRow.tool_id, agent_ids)


async def _of_agents(
    session: AsyncSession, link: Any, row: Any, attached: Key, agent_ids: Sequence[str]
) -> dict[str, list[Any]]:
    stmt = (
        select(link.agent_id, row)
        .join(row, row.id == attached)
        .where(link.agent_id.in_(agent_ids))
        .order_by(link.agent_id, link.position)
    )
    found: dict[str, list[Any]] = defaultdict(list)
    for agent_id, item in await session.execute(stmt):
        found[agent_id].append(item)
    return found


async def agents_sharing_blocks(session: AsyncSession, agent_ids: Sequence[str]) -> set[str]:
    """The agents (the given ones included) attached to any block of the given agents."""
    theirs = select(AgentBlockRow.block_id).where(AgentBlockRow.agent_id.in_(agent_ids))
    stmt = select(AgentBlockRow.agent_id).where(AgentBlockRow.block_id.in_(theirs)).distinct()
    return {*agent_ids, *(await session.execute(stmt)).scalars()}
