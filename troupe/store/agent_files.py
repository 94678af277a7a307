"""The files each agent sees: open or closed, what part of each is visible, and when the
agent last touched it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.file_tables import AgentFileRow, AgentFolderRow, FileRow, FolderRow
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import utcnow


@dataclass(frozen=True)
class SeenFile:
    """An agent's view of one file, with the names the agent knows it by."""

    view: AgentFileRow
    file_name: str
    folder_name: str

    @property
    def full_name(self) -> str:
        """`folder/file`, the name an agent's file tools and prompt use (as Letta's do)."""
        return f"{self.folder_name}/{self.file_name}"


@dataclass(frozen=True)
class PromptFolder:
    """A folder as the system prompt shows it, with the agent's view of each file."""

    id: str
    name: str
    description: str | None
    instructions: str | None
    files: list[tuple[str, AgentFileRow]]  # (full name, view), oldest first


def _seen() -> Select[AgentFileRow, str, str]:
    return (
        select(AgentFileRow, FileRow.file_name, FolderRow.name)
        .join(FileRow, FileRow.id == AgentFileRow.file_id)
        .join(FolderRow, FolderRow.id == AgentFileRow.folder_id)
    )


async def seen_files(session: AsyncSession, agent_id: str) -> list[SeenFile]:
    """Every file the agent sees, oldest attachment first."""
    stmt = _seen().where(AgentFileRow.agent_id == agent_id)
    stmt = stmt.order_by(AgentFileRow.created_at, AgentFileRow.id)
    return [SeenFile(view, file, folder) for view, file, folder in await session.execute(stmt)]


async def page_of_seen_files(
    session: AsyncSession, agent_id: str, page: Page, *, is_open: bool | None
) -> list[SeenFile]:
    stmt = select(AgentFileRow).where(AgentFileRow.agent_id == agent_id)
    if is_open is not None:
        stmt = stmt.where(AgentFileRow.is_open == is_open)
    views = await fetch_page(session, stmt, by_creation(AgentFileRow), page)
    if not views:
        return []
    names = _seen().where(AgentFileRow.id.in_([v.id for v in views]))
    rows = await session.execute(names)
    by_id = {view.id: SeenFile(view, file, folder) for view, file, folder in rows}
    return [by_id[v.id] for v in views if v.id in by_id]


async def add_views(session: AsyncSession, views: Sequence[AgentFileRow]) -> None:
    session.add_all(views)
    await session.flush()


async def set_open(
    session: AsyncSession,
    view: AgentFileRow,
    visible: str,
    lines: tuple[int | None, int | None],
    at: datetime | None = None,
) -> None:
    view.is_open = True
    view.visible_content = visible
    view.start_line, view.end_line = lines
    view.last_accessed_at = at or utcnow()
    await session.flush()


async def close_views(session: AsyncSession, views: Sequence[AgentFileRow]) -> None:
    for view in views:
        view.is_open = False
        view.visible_content = None
        view.start_line = view.end_line = None
    await session.flush()


async def touch(session: AsyncSession, view_ids: Sequence[str]) -> None:
    if view_ids:
        await session.execute(
            update(AgentFileRow)
            .where(AgentFileRow.id.in_(view_ids))
            .values(last_accessed_at=utcnow())
        )


async def drop_folder_views(session: AsyncSession, agent_id: str, folder_id: str) -> None:
    await session.execute(
        delete(AgentFileRow).where(
            AgentFileRow.agent_id == agent_id, AgentFileRow.folder_id == folder_id
        )
    )


async def prompt_folders_of(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[PromptFolder]]:
    """Each agent's folders with its view of their files, for the system prompt."""
    found: dict[str, dict[str, PromptFolder]] = {agent_id: {} for agent_id in agent_ids}
    folders = (
        select(AgentFolderRow.agent_id, FolderRow)
        .join(FolderRow, FolderRow.id == AgentFolderRow.folder_id)
        .where(AgentFolderRow.agent_id.in_(agent_ids))
        .order_by(AgentFolderRow.created_at, FolderRow.id)
    )
    for agent_id, row in await session.execute(folders):
        found[agent_id][row.id] = PromptFolder(
            row.id, row.name, row.description, row.instructions, []
        )
    views = _seen().where(AgentFileRow.agent_id.in_(agent_ids))
    views = views.order_by(AgentFileRow.created_at, AgentFileRow.id)
    for view, file_name, folder_name in await session.execute(views):
        shown = found[view.agent_id].get(view.folder_id)
        if shown is not None:
            shown.files.append((f"{folder_name}/{file_name}", view))
    return {agent_id: list(folders.values()) for agent_id, folders in found.items()}


async def contents_of(session: AsyncSession, file_ids: Sequence[str]) -> dict[str, str]:
    """The text of each file, by id."""
    if not file_ids:
        return {}
    stmt = select(FileRow.id, FileRow.content).where(FileRow.id.in_(file_ids))
    return {file_id: content for file_id, content in await session.execute(stmt)}
