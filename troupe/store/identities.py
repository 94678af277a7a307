"""Identity rows and their links to agents and blocks."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.identity_tables import IdentityAgentRow, IdentityBlockRow, IdentityRow
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Page, by_creation, fetch_page

LinkRow = type[IdentityAgentRow] | type[IdentityBlockRow]


@dataclass(frozen=True)
class IdentityFilter:
    name_contains: str | None = None
    project_id: str | None = None
    identifier_key: str | None = None
    identity_type: str | None = None


async def get_identity(session: AsyncSession, identity_id: str) -> IdentityRow:
    return await row_or_not_found(session, IdentityRow, identity_id, "identity")


async def identity_by_key(
    session: AsyncSession, identifier_key: str, project_id: str | None
) -> IdentityRow | None:
    """The identity with this key in this project (None: outside any project)."""
    same_project = (
        IdentityRow.project_id.is_(None)
        if project_id is None
        else IdentityRow.project_id == project_id
    )
    stmt = select(IdentityRow).where(IdentityRow.identifier_key == identifier_key, same_project)
    return (await session.execute(stmt)).scalars().first()


async def list_identities(
    session: AsyncSession, page: Page, filters: IdentityFilter
) -> list[IdentityRow]:
    stmt = select(IdentityRow)
    if filters.name_contains:
        stmt = stmt.where(IdentityRow.name.icontains(filters.name_contains, autoescape=True))
    if filters.project_id is not None:
        stmt = stmt.where(IdentityRow.project_id == filters.project_id)
    if filters.identifier_key is not None:
        stmt = stmt.where(IdentityRow.identifier_key == filters.identifier_key)
    if filters.identity_type is not None:
        stmt = stmt.where(IdentityRow.identity_type == filters.identity_type)
    return await fetch_page(session, stmt, by_creation(IdentityRow), page)


async def count_identities(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(IdentityRow)) or 0)


async def delete_identity(session: AsyncSession, identity_id: str) -> None:
    """The identity and its links (the agents and blocks stay)."""
    for link in (IdentityAgentRow, IdentityBlockRow):
        await session.execute(delete(link).where(link.identity_id == identity_id))
    await session.execute(delete(IdentityRow).where(IdentityRow.id == identity_id))


_LINKED_COLUMN = {IdentityAgentRow: "agent_id", IdentityBlockRow: "block_id"}


def _linked(link: LinkRow) -> Any:
    """The link table's column of the linked agent (or block)."""
    return getattr(link, _LINKED_COLUMN[link])


async def linked_ids(
    session: AsyncSession, link: LinkRow, identity_ids: Sequence[str]
) -> dict[str, list[str]]:
    """identity id -> the ids of the agents (or blocks) linked to it, in link order."""
    found: dict[str, list[str]] = defaultdict(list)
    if identity_ids:
        stmt = select(link.identity_id, _linked(link)).where(
            link.identity_id.in_(list(identity_ids))
        )
        for identity_id, other in await session.execute(stmt):
            found[identity_id].append(other)
    return found


async def identities_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[str]]:
    """agent id -> the ids of the identities linked to it."""
    found: dict[str, list[str]] = defaultdict(list)
    if agent_ids:
        stmt = (
            select(IdentityAgentRow.agent_id, IdentityAgentRow.identity_id)
            .where(IdentityAgentRow.agent_id.in_(list(agent_ids)))
            .order_by(IdentityAgentRow.identity_id)
        )
        for agent_id, identity_id in await session.execute(stmt):
            found[agent_id].append(identity_id)
    return found


async def add_links(
    session: AsyncSession, link: LinkRow, identity_id: str, other_ids: Sequence[str]
) -> None:
    """Link these agents (or blocks) to the identity, skipping those linked already."""
    have = set((await linked_ids(session, link, [identity_id]))[identity_id])
    new = [o for o in dict.fromkeys(other_ids) if o not in have]
    if new:
        column = _LINKED_COLUMN[link]
        rows = [{"identity_id": identity_id, column: other} for other in new]
        await session.execute(insert(link), rows)


async def remove_links(
    session: AsyncSession, link: LinkRow, identity_id: str, other_ids: Sequence[str] | None
) -> None:
    """Unlink these agents (or blocks) from the identity; None: all of them."""
    stmt = delete(link).where(link.identity_id == identity_id)
    if other_ids is not None:
        stmt = stmt.where(_linked(link).in_(list(other_ids)))
    await session.execute(stmt)


async def set_agent_identities(
    session: AsyncSession, agent_id: str, identity_ids: Sequence[str]
) -> None:
    """The agent is linked to exactly these identities."""
    await session.execute(delete(IdentityAgentRow).where(IdentityAgentRow.agent_id == agent_id))
    rows = [{"identity_id": i, "agent_id": agent_id} for i in dict.fromkeys(identity_ids)]
    if rows:
        await session.execute(insert(IdentityAgentRow), rows)


async def existing_ids(session: AsyncSession, identity_ids: Sequence[str]) -> set[str]:
    stmt = select(IdentityRow.id).where(IdentityRow.id.in_(list(identity_ids)))
    return set((await session.execute(stmt)).scalars())


def linked_to_identity(
    link: LinkRow, identity_id: str | None, identifier_keys: Sequence[str]
) -> list[Select[Any]]:
    """The list filters by identity: subqueries of the ids of the agents (or blocks) linked
    to `identity_id`, and of those linked to an identity with one of `identifier_keys`; a
    row must be in each (none given: no condition)."""
    target = _linked(link)
    found = []
    if identity_id is not None:
        found.append(select(target).where(link.identity_id == identity_id))
    if identifier_keys:
        keyed = select(IdentityRow.id).where(IdentityRow.identifier_key.in_(list(identifier_keys)))
        found.append(select(target).where(link.identity_id.in_(keyed)))
    return found
