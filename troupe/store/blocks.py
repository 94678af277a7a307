"""Block rows: reads, the one versioned update, and which agents hold a block (attaching
and detaching: troupe.store.attachments)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.identities import linked_to_identity
from troupe.store.identity_tables import IdentityBlockRow
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import AgentBlockRow, AgentRow, BlockRow, utcnow

BLOCKS = cast(Table, BlockRow.__table__)


async def get_block(session: AsyncSession, block_id: str, *, fresh: bool = False) -> BlockRow:
    """The block's row; `fresh`: read again even if this session holds it already."""
    return await row_or_not_found(session, BlockRow, block_id, "block", fresh=fresh)


async def update_block_value(
    session: AsyncSession,
    block_id: str,
    *,
    expected_version: int | None,
    value: str,
    **settings: object,
) -> bool:
    """Set a block's value, and any other of its columns in `settings` (by column name), in
    ONE guarded UPDATE: only if the block is still at `expected_version` (None: at any).
    The version goes up by one when the value changes. Of two edits made from one version,
    on either backend and from any number of processes, exactly one lands: False for the
    other (and for a block that is gone). Rows of this session are not refreshed."""
    stmt = update(BLOCKS).where(BLOCKS.c.id == block_id)
    if expected_version is not None:
        stmt = stmt.where(BLOCKS.c.version == expected_version)
    version = case((BLOCKS.c.value == value, BLOCKS.c.version), else_=BLOCKS.c.version + 1)
    result = await session.execute(
        stmt.values(value=value, version=version, updated_at=utcnow(), **settings)
    )
    return bool(getattr(result, "rowcount", 0))


async def relabel_links(session: AsyncSession, block_id: str, label: str) -> None:
    """Copy a block's new label to its attachments (they keep one, see AgentBlockRow)."""
    await session.execute(
        update(AgentBlockRow).where(AgentBlockRow.block_id == block_id).values(label=label)
    )


async def delete_block(session: AsyncSession, block_id: str) -> None:
    """The block and its attachments."""
    await session.execute(delete(AgentBlockRow).where(AgentBlockRow.block_id == block_id))
    await session.execute(delete(BlockRow).where(BlockRow.id == block_id))


async def blocks_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, BlockRow]:
    if not ids:
        return {}
    rows = (await session.execute(select(BlockRow).where(BlockRow.id.in_(ids)))).scalars()
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class BlockFilter:
    """What a block list may be narrowed by; None (or empty) narrows nothing. The `*_contains`
    match case-insensitively, `%` and `_` taken literally."""

    label: str | None = None
    name: str | None = None
    label_contains: str | None = None
    value_contains: str | None = None
    description_contains: str | None = None
    templates_only: bool = False
    agent_count_in: Sequence[int] = ()
    agent_count_above: int | None = None
    agent_count_below: int | None = None
    identity_id: str | None = None
    identifier_keys: Sequence[str] = ()  # linked to an identity with one of these keys


async def list_blocks(session: AsyncSession, page: Page, filters: BlockFilter) -> list[BlockRow]:
    stmt = select(BlockRow)
    if filters.label is not None:
        stmt = stmt.where(BlockRow.label == filters.label)
    if filters.name is not None:
        stmt = stmt.where(BlockRow.template_name == filters.name)
    for column, part in (
        (BlockRow.label, filters.label_contains),
        (BlockRow.value, filters.value_contains),
        (BlockRow.description, filters.description_contains),
    ):
        if part is not None:
            stmt = stmt.where(column.icontains(part, autoescape=True))
    if filters.templates_only:
        stmt = stmt.where(BlockRow.is_template.is_(True))
    holders = (
        select(func.count())
        .where(AgentBlockRow.block_id == BlockRow.id)
        .correlate(BlockRow)
        .scalar_subquery()
    )
    if filters.agent_count_in:
        stmt = stmt.where(holders.in_(filters.agent_count_in))
    if filters.agent_count_above is not None:
        stmt = stmt.where(holders > filters.agent_count_above)
    if filters.agent_count_below is not None:
        stmt = stmt.where(holders < filters.agent_count_below)
    for linked in linked_to_identity(
        IdentityBlockRow, filters.identity_id, filters.identifier_keys
    ):
        stmt = stmt.where(BlockRow.id.in_(linked))
    return await fetch_page(session, stmt, by_creation(BlockRow), page)


async def agent_block_by_label(session: AsyncSession, agent_id: str, label: str) -> BlockRow:
    stmt = (
        select(BlockRow)
        .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
        .where(AgentBlockRow.agent_id == agent_id, AgentBlockRow.label == label)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"agent {agent_id!r} has no memory block labelled {label!r}")
    return row


async def labels_of_agent(session: AsyncSession, agent_id: str) -> dict[str, str]:
    """label -> block id for one agent."""
    stmt = select(AgentBlockRow.label, AgentBlockRow.block_id).where(
        AgentBlockRow.agent_id == agent_id
    )
    return dict((await session.execute(stmt)).all())


async def agents_holding_block(session: AsyncSession, block_id: str) -> list[AgentRow]:
    stmt = (
        select(AgentRow)
        .join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
        .where(AgentBlockRow.block_id == block_id)
        .order_by(AgentRow.created_at, AgentRow.id)
    )
    return list((await session.execute(stmt)).scalars())


async def page_of_agents_holding_block(
    session: AsyncSession, block_id: str, page: Page
) -> list[AgentRow]:
    """One page of the agents a block is attached to, for `GET /v1/blocks/{id}/agents`."""
    stmt = (
        select(AgentRow)
        .join(AgentBlockRow, AgentBlockRow.agent_id == AgentRow.id)
        .where(AgentBlockRow.block_id == block_id)
    )
    return await fetch_page(session, stmt, by_creation(AgentRow), page)


async def block_for_edit(session: AsyncSession, agent_id: str, label: str) -> BlockRow | None:
    """The agent's block of that label as stored now (re-read, even if the session holds it)."""
    stmt = (
        select(BlockRow)
        .join(AgentBlockRow, AgentBlockRow.block_id == BlockRow.id)
        .where(AgentBlockRow.agent_id == agent_id, AgentBlockRow.label == label)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
