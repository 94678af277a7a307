"""Groups: a group with its members (in speaking order) and shared blocks, the runs its
turns made, and the sleep-time bookkeeping (turns counted, last message handed over).

Other modules (the agent file export among them) read a group whole through `GroupBundle`."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.group_tables import GroupAgentRow, GroupBlockRow, GroupRow, GroupRunRow
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Ordering, Page, by_creation, fetch_page
from troupe.store.tables import MessageRow


@dataclass
class GroupBundle:
    """A group and the ids of its members (speaking order) and shared blocks."""

    group: GroupRow
    agent_ids: list[str] = field(default_factory=list)
    block_ids: list[str] = field(default_factory=list)


async def insert_group(
    session: AsyncSession, group: GroupRow, agent_ids: Sequence[str], block_ids: Sequence[str]
) -> None:
    session.add(group)
    await session.flush()
    await replace_members(session, group.id, agent_ids)
    await replace_blocks(session, group.id, block_ids)


async def replace_members(session: AsyncSession, group_id: str, agent_ids: Sequence[str]) -> None:
    await session.execute(delete(GroupAgentRow).where(GroupAgentRow.group_id == group_id))
    session.add_all(
        GroupAgentRow(group_id=group_id, agent_id=agent_id, position=i)
        for i, agent_id in enumerate(agent_ids)
    )
    await session.flush()


async def replace_blocks(session: AsyncSession, group_id: str, block_ids: Sequence[str]) -> None:
    await session.execute(delete(GroupBlockRow).where(GroupBlockRow.group_id == group_id))
    session.add_all(GroupBlockRow(group_id=group_id, block_id=b) for b in block_ids)
    await session.flush()


async def add_block(session: AsyncSession, group_id: str, block_id: str) -> None:
    if await session.get(GroupBlockRow, (group_id, block_id)) is None:
        session.add(GroupBlockRow(group_id=group_id, block_id=block_id))
        await session.flush()


async def remove_block(session: AsyncSession, group_id: str, block_id: str) -> None:
    await session.execute(
        delete(GroupBlockRow).where(
            GroupBlockRow.group_id == group_id, GroupBlockRow.block_id == block_id
        )
    )


async def get_group_row(session: AsyncSession, group_id: str) -> GroupRow:
    return await row_or_not_found(session, GroupRow, group_id, "group")


async def get_group(session: AsyncSession, group_id: str) -> GroupBundle:
    return (await _bundles(session, [await get_group_row(session, group_id)]))[0]


async def list_groups(
    session: AsyncSession,
    page: Page,
    *,
    manager_type: str | None = None,
    project_id: str | None = None,
    show_hidden: bool = False,
) -> list[GroupBundle]:
    stmt = select(GroupRow)
    if manager_type is not None:
        stmt = stmt.where(GroupRow.manager_type == manager_type)
    if project_id is not None:
        stmt = stmt.where(GroupRow.project_id == project_id)
    if not show_hidden:
        stmt = stmt.where(GroupRow.hidden.is_not(True))
    return await _bundles(session, await fetch_page(session, stmt, by_creation(GroupRow), page))


async def count_groups(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(GroupRow)) or 0)


async def groups_of_agent(session: AsyncSession, agent_id: str) -> list[GroupBundle]:
    """The groups an agent belongs to, as a member or as their manager (oldest first)."""
    members = select(GroupAgentRow.group_id).where(GroupAgentRow.agent_id == agent_id)
    stmt = (
        select(GroupRow)
        .where((GroupRow.id.in_(members)) | (GroupRow.manager_agent_id == agent_id))
        .order_by(GroupRow.created_at, GroupRow.id)
    )
    return await _bundles(session, list((await session.execute(stmt)).scalars()))


async def managed_groups(session: AsyncSession, agent_ids: Sequence[str]) -> dict[str, GroupBundle]:
    """The group each of these agents manages (Letta shows one per agent), in one query."""
    stmt = (
        select(GroupRow, GroupAgentRow.agent_id)
        .outerjoin(GroupAgentRow, GroupAgentRow.group_id == GroupRow.id)
        .where(GroupRow.manager_agent_id.in_(agent_ids))
        .order_by(GroupRow.created_at, GroupRow.id, GroupAgentRow.position)
    )
    found: dict[str, GroupBundle] = {}
    for group, member in await session.execute(stmt):
        assert group.manager_agent_id is not None
        bundle = found.setdefault(group.manager_agent_id, GroupBundle(group))
        if bundle.group.id == group.id and member is not None:
            bundle.agent_ids.append(member)
    return found


async def _bundles(session: AsyncSession, groups: Sequence[GroupRow]) -> list[GroupBundle]:
    ids = [g.id for g in groups]
    if not ids:
        return []
    members: dict[str, list[str]] = defaultdict(list)
    for group_id, agent_id in await session.execute(
        select(GroupAgentRow.group_id, GroupAgentRow.agent_id)
        .where(GroupAgentRow.group_id.in_(ids))
        .order_by(GroupAgentRow.group_id, GroupAgentRow.position)
    ):
        members[group_id].append(agent_id)
    blocks: dict[str, list[str]] = defaultdict(list)
    for group_id, block_id in await session.execute(
        select(GroupBlockRow.group_id, GroupBlockRow.block_id)
        .where(GroupBlockRow.group_id.in_(ids))
        .order_by(GroupBlockRow.group_id, GroupBlockRow.block_id)
    ):
        blocks[group_id].append(block_id)
    return [GroupBundle(g, members[g.id], blocks[g.id]) for g in groups]


async def update_group(session: AsyncSession, group_id: str, values: dict[str, Any]) -> None:
    if values:
        await session.execute(update(GroupRow).where(GroupRow.id == group_id).values(**values))


async def delete_group(session: AsyncSession, group_id: str) -> None:
    await session.execute(delete(GroupRow).where(GroupRow.id == group_id))


# -- the group's turns and messages --------------------------------------------------------


def _group_messages(group_id: str) -> Any:
    runs = select(GroupRunRow.run_id).where(GroupRunRow.group_id == group_id)
    return select(MessageRow).where(MessageRow.run_id.in_(runs))


def _by_time_then_sequence() -> Ordering:
    """Messages of several agents: by time, each agent's own order breaking ties."""

    def cursor_keys(cursor: str) -> Sequence[Any]:
        of = select(MessageRow).where(MessageRow.id == cursor).subquery()
        return (
            select(of.c.created_at).scalar_subquery(),
            select(of.c.seq).scalar_subquery(),
            cursor,
        )

    return Ordering((MessageRow.created_at, MessageRow.seq, MessageRow.id), cursor_keys)


async def group_messages(session: AsyncSession, group_id: str, page: Page) -> list[MessageRow]:
    """What the group's turns said, every member's, in the order it was said."""
    return await fetch_page(session, _group_messages(group_id), _by_time_then_sequence(), page)


async def delete_group_messages(session: AsyncSession, group_id: str) -> int:
    runs = select(GroupRunRow.run_id).where(GroupRunRow.group_id == group_id)
    result = await session.execute(delete(MessageRow).where(MessageRow.run_id.in_(runs)))
    return int(getattr(result, "rowcount", 0) or 0)


async def supervised_group_of(session: AsyncSession, agent_id: str) -> GroupBundle | None:
    """The supervisor group this agent manages, if any (the oldest, if several)."""
    return await _managed_of_type(session, agent_id, "supervisor")


async def _managed_of_type(session: AsyncSession, agent_id: str, kind: str) -> GroupBundle | None:
    stmt = (
        select(GroupRow)
        .where(GroupRow.manager_agent_id == agent_id, GroupRow.manager_type == kind)
        .order_by(GroupRow.created_at, GroupRow.id)
    )
    group = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    return None if group is None else (await _bundles(session, [group]))[0]


# -- sleep-time -------------------------------------------------------------------------------


async def sleeptime_group_of(session: AsyncSession, agent_id: str) -> GroupBundle | None:
    """The sleep-time group whose primary agent this is, if any."""
    return await _managed_of_type(session, agent_id, "sleeptime")


async def count_turn(session: AsyncSession, group_id: str) -> int:
    """One more turn of the primary (atomically, as concurrent turns may end together)."""
    stmt = (
        update(GroupRow)
        .where(GroupRow.id == group_id)
        .values(turns_counter=GroupRow.turns_counter + 1)
        .returning(GroupRow.turns_counter)
    )
    return int((await session.execute(stmt)).scalar_one() or 0)


async def hand_over(session: AsyncSession, group_id: str, last_message_id: str) -> str | None:
    """Record the last message given to the sleep-time agents; the one before it."""
    group = await get_group_row(session, group_id)
    previous = group.last_processed_message_id
    group.last_processed_message_id = last_message_id
    await session.flush()
    return previous


async def messages_up_to(
    session: AsyncSession, agent_id: str, after_id: str | None, last_id: str, limit: int
) -> list[MessageRow]:
    """The agent's messages after `after_id` (from the start if None) up to `last_id`, the
    newest `limit` of them, oldest first."""

    def seq_of(message_id: str) -> Any:
        return select(MessageRow.seq).where(MessageRow.id == message_id).scalar_subquery()

    stmt = select(MessageRow).where(
        MessageRow.agent_id == agent_id, MessageRow.seq <= seq_of(last_id)
    )
    if after_id is not None:
        stmt = stmt.where(MessageRow.seq > func.coalesce(seq_of(after_id), -1))
    rows = await session.execute(stmt.order_by(MessageRow.seq.desc()).limit(limit))
    return list(rows.scalars())[::-1]
