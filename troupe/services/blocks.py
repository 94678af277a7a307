"""Memory blocks: standalone CRUD. A block attached to several agents is one row, so an edit
here is what every one of them reads at its next step."""

from collections.abc import Mapping
from typing import Any

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
    over_limit,
)
from troupe.schemas.tools import Tool
from troupe.services.list_filters import refuse_unsupported
from troupe.services.views import agent_view, block_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import blocks as block_store
from troupe.store.inserts import insert_rows
from troupe.store.paging import Page
from troupe.store.tables import BlockRow


def new_block_row(spec: BlockCreate) -> BlockRow:
    # With no limit given the block gets Letta's default limit, and (as in Letta, whose Block
    # validates value against limit) a longer value is refused rather than the limit stretched.
    limit = spec.limit or DEFAULT_BLOCK_LIMIT
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
    problem = over_limit(label, value, limit)
    if problem is not None:
        remedy = (
            "shorten the value or raise `limit`"
            if limit < MAX_BLOCK_LIMIT
            else f"shorten the value: no block holds more than {MAX_BLOCK_LIMIT} characters"
        )
        raise InvalidInput(f"{problem}; {remedy}")


async def create_block(db: Database, spec: BlockCreate) -> Block:
    row = new_block_row(spec)
    async with db.write() as session:
        await insert_rows(session, [row])
    return block_view(row)


async def get_block(db: Database, block_id: str) -> Block:
    async with db.read() as session:
        return block_view(await block_store.get_block(session, block_id))


async def list_blocks(
    db: Database,
    page: Page,
    filters: block_store.BlockFilter,
    unsupported: Mapping[str, object] | None = None,
) -> list[Block]:
    """Blocks narrowed by every filter given. `unsupported`: filters of Letta's list this
    server has nothing to match on (tags, identities, projects); given, they are refused
    rather than ignored, since ignoring one returns blocks the caller did not ask for."""
    refuse_unsupported(unsupported or {})
    async with db.read() as session:
        rows = await block_store.list_blocks(session, page, filters)
    return [block_view(r) for r in rows]


async def update_block(db: Database, block_id: str, changes: BlockUpdate) -> Block:
    async with db.write() as session:
        row = await block_store.get_block(session, block_id)
        row = await apply_block_update(session, row, changes)
    return block_view(row)


async def apply_block_update(
    session: AsyncSession, row: BlockRow, changes: BlockUpdate
) -> BlockRow:
    """Apply a PATCH to a block inside the caller's transaction, all or nothing; returns the
    row as stored. With `expected_version`, the write is one guarded UPDATE: of two edits
    from one version, whichever process makes them, the second gets a Conflict."""
    if changes.expected_version is not None and changes.expected_version != row.version:
        raise _stale(row, changes.expected_version)
    changed = _changed_columns(row, changes)
    value = changed.get("value", row.value)
    label = changed.get("label", row.label)
    # Decided now: re-reading the row below refreshes this same object, label and all.
    relabelled = label != row.label
    check_fits(label, value, changed.get("char_limit", row.char_limit))
    if relabelled:
        await _check_label_free(session, row.id, label)
    if not changed:
        return row
    settings = {column: v for column, v in changed.items() if column != "value"}
    landed = await block_store.update_block_value(
        session, row.id, expected_version=changes.expected_version, value=value, **settings
    )
    current = await block_store.get_block(session, row.id, fresh=True)
    if not landed and changes.expected_version is not None:
        raise _stale(current, changes.expected_version)
    if relabelled:
        await block_store.relabel_links(session, row.id, label)
    return current


def _stale(row: BlockRow, expected_version: int) -> Conflict:
    return Conflict(
        f"block {row.id!r} is at version {row.version}, not {expected_version}: "
        "it changed since you read it; read it again and reapply your edit"
    )


def _changed_columns(row: BlockRow, changes: BlockUpdate) -> dict[str, Any]:
    """The block's columns (by column name) whose values a PATCH changes."""
    fields = changes.model_fields_set
    asked: dict[str, Any] = {}
    for field, column in (("value", "value"), ("label", "label"), ("limit", "char_limit")):
        if field in fields and getattr(changes, field) is not None:
            asked[column] = getattr(changes, field)
    for field, column in (("description", "description"), ("metadata", "metadata")):
        if field in fields:
            asked[column] = getattr(changes, field)
    if "name" in fields:
        asked["template_name"] = changes.name
    if changes.read_only is not None:
        asked["read_only"] = changes.read_only
    if changes.is_template is not None:
        asked["is_template"] = changes.is_template
    stored = {
        "value": row.value, "label": row.label, "char_limit": row.char_limit,
        "description": row.description, "metadata": row.metadata_,
        "template_name": row.template_name, "read_only": row.read_only,
        "is_template": row.is_template,
    }  # fmt: skip
    return {column: v for column, v in asked.items() if v != stored[column]}


async def _check_label_free(session: AsyncSession, block_id: str, label: str) -> None:
    """Refuse a label that an agent holding the block gives to another of its blocks."""
    for agent in await block_store.agents_holding_block(session, block_id):
        labels = await block_store.labels_of_agent(session, agent.id)
        if labels.get(label, block_id) != block_id:
            raise Conflict(
                f"agent {agent.id!r} already has a block labelled {label!r}; "
                "detach it first or pick another label"
            )


async def delete_block(db: Database, block_id: str) -> None:
    async with db.write() as session:
        await block_store.get_block(session, block_id)
        await block_store.delete_block(session, block_id)


async def agents_of_block(db: Database, block_id: str, page: Page) -> list[AgentState]:
    async with db.read() as session:
        await block_store.get_block(session, block_id)
        agents = await block_store.page_of_agents_holding_block(session, block_id, page)
        bundles = await agent_store.load_bundles(session, agents)
    cache: dict[str, Tool] = {}
    return [agent_view(b, cache) for b in bundles]
