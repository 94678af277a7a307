"""Identities: the users or organisations of an application, each found by its own
`identifier_key` (unique within a project), linked to agents and blocks. As Letta: PATCH
merges properties by key and adds the agents and blocks it names; PUT (upsert) and the
properties route replace what they are given."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict, NotFound
from troupe.ids import new_id
from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block
from troupe.schemas.identities import (
    Identity,
    IdentityCreate,
    IdentityProperty,
    IdentityUpdate,
)
from troupe.services.agents import get_agent, list_agents
from troupe.services.views import block_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import blocks as block_store
from troupe.store import identities as store
from troupe.store.identity_tables import IdentityAgentRow, IdentityBlockRow, IdentityRow
from troupe.store.inserts import insert_rows
from troupe.store.paging import Page


async def _view(session: AsyncSession, row: IdentityRow) -> Identity:
    return (await _views(session, [row]))[0]


async def _views(session: AsyncSession, rows: Sequence[IdentityRow]) -> list[Identity]:
    ids = [r.id for r in rows]
    agents = await store.linked_ids(session, IdentityAgentRow, ids)
    blocks = await store.linked_ids(session, IdentityBlockRow, ids)
    return [
        Identity(
            id=r.id,
            identifier_key=r.identifier_key,
            name=r.name,
            identity_type=r.identity_type,  # type: ignore[arg-type]  # checked when written
            project_id=r.project_id,
            agent_ids=agents.get(r.id, []),
            block_ids=blocks.get(r.id, []),
            properties=[IdentityProperty.model_validate(p) for p in r.properties],
        )
        for r in rows
    ]


def _properties(properties: Sequence[IdentityProperty]) -> list[dict[str, object]]:
    """As stored: one per key, the last given winning."""
    by_key = {p.key: p.model_dump() for p in properties}
    return list(by_key.values())


async def _check_key_free(
    session: AsyncSession, identifier_key: str, project_id: str | None, own_id: str | None
) -> None:
    other = await store.identity_by_key(session, identifier_key, project_id)
    if other is not None and other.id != own_id:
        where = f" in project {project_id!r}" if project_id else ""
        raise Conflict(
            f"an identity with identifier key {identifier_key!r}{where} exists ({other.id}); "
            "modify it, or upsert with PUT /v1/identities"
        )


async def _check_exist(
    session: AsyncSession, agent_ids: Sequence[str], block_ids: Sequence[str]
) -> None:
    """Refuse links to agents or blocks that do not exist (404 naming them)."""
    agents = await agent_store.names_of_agents(session, agent_ids)
    missing = [a for a in agent_ids if a not in agents]
    blocks = await block_store.blocks_by_ids(session, block_ids)
    missing += [b for b in block_ids if b not in blocks]
    if missing:
        raise NotFound(f"not found: {', '.join(dict.fromkeys(missing))}")


async def _link(
    session: AsyncSession,
    identity_id: str,
    agent_ids: Sequence[str] | None,
    block_ids: Sequence[str] | None,
    *,
    replace: bool,
) -> None:
    """Link the agents and blocks given (None: leave that side as it is); `replace`: unlink
    the others."""
    await _check_exist(session, agent_ids or (), block_ids or ())
    for link, ids in ((IdentityAgentRow, agent_ids), (IdentityBlockRow, block_ids)):
        if ids is None:
            continue
        if replace:
            await store.remove_links(session, link, identity_id, None)
        await store.add_links(session, link, identity_id, ids)


async def _create(session: AsyncSession, spec: IdentityCreate) -> IdentityRow:
    await _check_key_free(session, spec.identifier_key, spec.project_id, None)
    row = IdentityRow(
        id=new_id("identity"),
        identifier_key=spec.identifier_key,
        name=spec.name,
        identity_type=spec.identity_type,
        project_id=spec.project_id,
        properties=_properties(spec.properties or ()),
    )
    await insert_rows(session, [row])
    await _link(session, row.id, spec.agent_ids, spec.block_ids, replace=True)
    return row


async def create_identity(db: Database, spec: IdentityCreate) -> Identity:
    async with db.write() as session:
        return await _view(session, await _create(session, spec))


async def upsert_identity(db: Database, spec: IdentityCreate) -> Identity:
    """The identity with this key (and project) becomes what the body says; none: created."""
    async with db.write() as session:
        row = await store.identity_by_key(session, spec.identifier_key, spec.project_id)
        if row is None:
            return await _view(session, await _create(session, spec))
        row.name, row.identity_type = spec.name, spec.identity_type
        if spec.properties is not None:
            row.properties = _properties(spec.properties)
        await _link(session, row.id, spec.agent_ids, spec.block_ids, replace=True)
        await session.flush()
        return await _view(session, row)


async def update_identity(db: Database, identity_id: str, changes: IdentityUpdate) -> Identity:
    async with db.write() as session:
        row = await store.get_identity(session, identity_id)
        if changes.identifier_key is not None:
            await _check_key_free(session, changes.identifier_key, row.project_id, row.id)
            row.identifier_key = changes.identifier_key
        if changes.name is not None:
            row.name = changes.name
        if changes.identity_type is not None:
            row.identity_type = changes.identity_type
        if changes.properties is not None:
            merged = [IdentityProperty.model_validate(p) for p in row.properties]
            row.properties = _properties([*merged, *changes.properties])
        await _link(session, row.id, changes.agent_ids, changes.block_ids, replace=False)
        await session.flush()
        return await _view(session, row)


async def replace_properties(
    db: Database, identity_id: str, properties: Sequence[IdentityProperty]
) -> Identity:
    async with db.write() as session:
        row = await store.get_identity(session, identity_id)
        row.properties = _properties(properties)
        await session.flush()
        return await _view(session, row)


async def get_identity(db: Database, identity_id: str) -> Identity:
    async with db.read() as session:
        return await _view(session, await store.get_identity(session, identity_id))


async def list_identities(
    db: Database, page: Page, filters: store.IdentityFilter
) -> list[Identity]:
    async with db.read() as session:
        return await _views(session, await store.list_identities(session, page, filters))


async def count_identities(db: Database) -> int:
    async with db.read() as session:
        return await store.count_identities(session)


async def delete_identity(db: Database, identity_id: str) -> None:
    async with db.write() as session:
        await store.get_identity(session, identity_id)
        await store.delete_identity(session, identity_id)


async def list_identity_blocks(db: Database, identity_id: str, page: Page) -> list[Block]:
    async with db.read() as session:
        await store.get_identity(session, identity_id)
        rows = await block_store.list_blocks(
            session, page, block_store.BlockFilter(identity_id=identity_id)
        )
    return [block_view(r) for r in rows]


async def link_agent(db: Database, agent_id: str, identity_id: str, *, linked: bool) -> AgentState:
    """Attach (`linked`) or detach an identity to an agent; either way, the agent as it is."""
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await store.get_identity(session, identity_id)
        change = store.add_links if linked else store.remove_links
        await change(session, IdentityAgentRow, identity_id, [agent_id])
    return await get_agent(db, agent_id)


async def list_identity_agents(db: Database, identity_id: str, page: Page) -> list[AgentState]:
    async with db.read() as session:
        await store.get_identity(session, identity_id)
    return await list_agents(db, page, agent_store.AgentFilter(identity_id=identity_id))
