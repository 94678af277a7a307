"""Folders (Letta's "sources") and which agents they are attached to."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.file_tables import AgentFolderRow, FolderRow
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Page, by_creation, fetch_page


async def get_folder(session: AsyncSession, folder_id: str) -> FolderRow:
    return await row_or_not_found(session, FolderRow, folder_id, "folder")


async def folder_by_name(session: AsyncSession, name: str) -> FolderRow | None:
    stmt = select(FolderRow).where(FolderRow.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_folders(session: AsyncSession, page: Page, *, name: str | None) -> list[FolderRow]:
    stmt = select(FolderRow)
    if name is not None:
        stmt = stmt.where(FolderRow.name == name)
    return await fetch_page(session, stmt, by_creation(FolderRow), page)


async def delete_folder(session: AsyncSession, folder_id: str) -> None:
    """The folder and, by cascade, its files, their passages and every attachment."""
    await session.execute(delete(FolderRow).where(FolderRow.id == folder_id))


async def attach(session: AsyncSession, agent_id: str, folder_id: str) -> bool:
    """Attach the folder to the agent; False if it was attached already."""
    found = await session.get(AgentFolderRow, (agent_id, folder_id))
    if found is not None:
        return False
    session.add(AgentFolderRow(agent_id=agent_id, folder_id=folder_id))
    await session.flush()
    return True


async def detach(session: AsyncSession, agent_id: str, folder_id: str) -> None:
    await session.execute(
        delete(AgentFolderRow).where(
            AgentFolderRow.agent_id == agent_id, AgentFolderRow.folder_id == folder_id
        )
    )


async def agent_ids_of_folder(session: AsyncSession, folder_id: str) -> list[str]:
    stmt = (
        select(AgentFolderRow.agent_id)
        .where(AgentFolderRow.folder_id == folder_id)
        .order_by(AgentFolderRow.created_at, AgentFolderRow.agent_id)
    )
    return list((await session.execute(stmt)).scalars())


async def folders_of_agent(session: AsyncSession, agent_id: str, page: Page) -> list[FolderRow]:
    link = AgentFolderRow.agent_id == agent_id
    stmt = select(FolderRow).join(AgentFolderRow, AgentFolderRow.folder_id == FolderRow.id)
    return await fetch_page(session, stmt.where(link), by_creation(FolderRow), page)


async def folders_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[FolderRow]]:
    """Each agent's folders, in attachment order, in one query."""
    stmt = (
        select(AgentFolderRow.agent_id, FolderRow)
        .join(FolderRow, FolderRow.id == AgentFolderRow.folder_id)
        .where(AgentFolderRow.agent_id.in_(agent_ids))
        .order_by(AgentFolderRow.created_at, FolderRow.id)
    )
    found: dict[str, list[FolderRow]] = defaultdict(list)
    for agent_id, folder in await session.execute(stmt):
        found[agent_id].append(folder)
    return found


async def folder_count_of_agent(session: AsyncSession, agent_id: str) -> int:
    stmt = select(func.count()).where(AgentFolderRow.agent_id == agent_id)
    return int((await session.execute(stmt)).scalar_one())
