"""Archives (collections of passages) and which agents they are attached to."""

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import AgentArchiveRow, ArchiveRow


async def create_archive(
    session: AsyncSession,
    *,
    name: str,
    embedding_config: dict[str, Any],
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> ArchiveRow:
    row = ArchiveRow(
        id=new_id("archive"),
        name=name,
        description=description,
        metadata_=metadata,
        embedding_config=embedding_config,
    )
    session.add(row)
    await session.flush()
    return row


async def get_archive_row(session: AsyncSession, archive_id: str) -> ArchiveRow:
    return await row_or_not_found(session, ArchiveRow, archive_id, "archive")


async def list_archives(
    session: AsyncSession, page: Page, *, name: str | None, agent_id: str | None
) -> list[ArchiveRow]:
    stmt = select(ArchiveRow)
    if name is not None:
        stmt = stmt.where(ArchiveRow.name == name)
    if agent_id is not None:
        attached = select(AgentArchiveRow.archive_id).where(AgentArchiveRow.agent_id == agent_id)
        stmt = stmt.where(ArchiveRow.id.in_(attached))
    return await fetch_page(session, stmt, by_creation(ArchiveRow), page)


async def all_archives(session: AsyncSession) -> list[ArchiveRow]:
    return list(
        (await session.execute(select(ArchiveRow).order_by(ArchiveRow.created_at))).scalars()
    )


async def delete_archive(session: AsyncSession, archive_id: str) -> None:
    await session.delete(await get_archive_row(session, archive_id))


async def archives_of_agent(session: AsyncSession, agent_id: str) -> list[ArchiveRow]:
    """The agent's archives, first attached first (that one takes its inserts)."""
    stmt = (
        select(ArchiveRow)
        .join(AgentArchiveRow, AgentArchiveRow.archive_id == ArchiveRow.id)
        .where(AgentArchiveRow.agent_id == agent_id)
        .order_by(AgentArchiveRow.created_at, ArchiveRow.id)
    )
    return list((await session.execute(stmt)).scalars())


async def agents_of_archive(session: AsyncSession, archive_id: str) -> list[str]:
    stmt = select(AgentArchiveRow.agent_id).where(AgentArchiveRow.archive_id == archive_id)
    return list((await session.execute(stmt)).scalars())


async def attach_archive(session: AsyncSession, agent_id: str, archive_id: str) -> None:
    """Attach (attaching twice changes nothing)."""
    if await session.get(AgentArchiveRow, (agent_id, archive_id)) is None:
        session.add(AgentArchiveRow(agent_id=agent_id, archive_id=archive_id))
        await session.flush()


async def detach_archive(session: AsyncSession, agent_id: str, archive_id: str) -> None:
    await session.execute(
        delete(AgentArchiveRow).where(
            AgentArchiveRow.agent_id == agent_id, AgentArchiveRow.archive_id == archive_id
        )
    )
