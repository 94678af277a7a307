"""Memory blocks: standalone CRUD. A block attached to several agents is one row, so an edit
here is what every one of them reads at its next step."""

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict, InvalidInput
from troupe.ids import new_id
from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import (
    DEFAULT_BLOCK_LIMIT,
    MAX_BLOCK_LIMIT,
    Block,
    BlockCreate,
    BlockUpdate,
)
from troupe.schemas.tools import Tool
from troupe.services.views import agent_view, block_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import blocks as block_store
from troupe.store.paging import Page
from troupe.store.tables import AgentBlockRow, BlockRow


def new_block_row(spec: BlockCreate) -> BlockRow:
    # With no limit given, the limit grows to fit the value, up to the largest limit allowed.
    limit = spec.limit or min(MAX_BLOCK_LIMIT, max(DEFAULT_BLOCK_LIMIT, len(spec.value)))
    check_fits(spec.label, spec.value, limit)
    return BlockRow(
        id=new_id("block"),
        label=spec.label,
        value=spec.value,
        char_limit=limit,
        description=spec.description,
        metadata_=spec.metadata,
        read_only=spec.read_only,
        is_template=spec.is_template,
        template_name=spec.name,
        version=1,
    )


def check_fits(label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        remedy = (
            "shorten the value or raise `limit`"
            if limit < MAX_BLOCK_LIMIT
            else f"shorten the value: no block holds more than {MAX_BLOCK_LIMIT} characters"
        )
        raise InvalidInput(
            f"block {label!r} would hold {len(value)} characters but its limit is {limit}; "
            + remedy
        )


async def create_block(db: Database, spec: BlockCreate) -> Block:
    row = new_block_row(spec)
    async with db.write() as session:
        session.add(row)
    return block_view(row)


async def get_block(db: Database, block_id: str) -> Block:
    async with db.read() as session:
        return block_view(await block_store.get_block(session, block_id))


async def list_blocks(
    db: Database, page: Page, *, label: str | None = None, name: str | None = None
) -> list[Block]:
    async with db.read() as session:
        rows = await block_store.list_blocks(session, page, label=label, name=name)
    return [block_view(r) for r in rows]


async def update_block(db: Database, block_id: str, changes: BlockUpdate) -> Block:
    async with db.write() as session:
        row = await block_store.get_block(session, block_id)
        await apply_block_update(session, row, changes)
    return block_view(row)


async def apply_block_update(session: AsyncSession, row: BlockRow, changes: BlockUpdate) -> None:
    """Apply a PATCH to a block inside the caller's transaction, all or nothing."""
    if changes.expected_version is not None and changes.expected_version != row.version:
        raise Conflict(
            f"block {row.id!r} is at version {row.version}, not {changes.expected_version}: "
            "it changed since you read it; read it again and reapply your edit"
        )
    fields = changes.model_fields_set
    value = changes.value if "value" in fields and changes.value is not None else row.value
    limit = changes.limit if "limit" in fields and changes.limit is not None else row.char_limit
    label = changes.label if "label" in fields and changes.label is not None else row.label
    check_fits(label, value, limit)
    if label != row.label:
        holders = await block_store.agents_holding_block(session, row.id)
        for agent in holders:
            labels = await block_store.labels_of_agent(session, agent.id)
            if labels.get(label, row.id) != row.id:
                raise Conflict(
                    f"agent {agent.id!r} already has a block labelled {label!r}; "
                    "detach it first or pick another label"
                )
        await session.execute(
            update(AgentBlockRow).where(AgentBlockRow.block_id == row.id).values(label=label)
        )
    if value != row.value:
        row.version += 1
    row.value, row.char_limit, row.label = value, limit, label
    if "description" in fields:
        row.description = changes.description
    if "metadata" in fields:
        row.metadata_ = changes.metadata
    if changes.read_only is not None:
        row.read_only = changes.read_only
    if changes.is_template is not None:
        row.is_template = changes.is_template
    if "name" in fields:
        row.template_name = changes.name
    await session.flush()


async def delete_block(db: Database, block_id: str) -> None:
    async with db.write() as session:
        await block_store.get_block(session, block_id)
        await session.execute(delete(AgentBlockRow).where(AgentBlockRow.block_id == block_id))
        await session.execute(delete(BlockRow).where(BlockRow.id == block_id))


async def agents_of_block(db: Database, block_id: str, page: Page) -> list[AgentState]:
    async with db.read() as session:
        await block_store.get_block(session, block_id)
        agents = await block_store.page_of_agents_holding_block(session, block_id, page)
        bundles = await agent_store.load_bundles(session, agents)
    cache: dict[str, Tool] = {}
    return [agent_view(b, cache) for b in bundles]
