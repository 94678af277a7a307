"""Folders attached to agents and the files agents see. Attaching a folder shows its files
to the agent (opening as many as its budget allows) and gives it the file tools; detaching
the agent's last folder takes the tools away, as Letta does."""

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.schemas.agents import AgentState
from troupe.schemas.folders import AgentFile, AgentFilesPage, Folder
from troupe.services.folder_views import agent_file_view, folder_view
from troupe.services.views import agent_view
from troupe.store import Database
from troupe.store import agent_files as view_store
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import files as file_store
from troupe.store import folders as folder_store
from troupe.store import tools as tool_store
from troupe.store.agent_files import SeenFile
from troupe.store.file_tables import AgentFileRow, FileRow
from troupe.store.paging import Page
from troupe.tools.files.opening import Budget, open_file
from troupe.tools.files.tools import FILE_TOOL_NAMES
from troupe.tools.files.view import file_budget


async def file_budget_of(session: AsyncSession, agent_id: str) -> Budget:
    agent = await agent_store.get_agent_row(session, agent_id)
    return Budget(*file_budget(agent.llm_config.get("context_window")))


async def _show(session: AsyncSession, agent_id: str, files: list[FileRow]) -> None:
    """Show `files` to the agent, each opened (the least recently used closing past the
    budget), as Letta does when a folder is attached or a file uploaded to it."""
    if not files:
        return
    budget = await file_budget_of(session, agent_id)
    seen = await view_store.seen_files(session, agent_id)
    known = {s.view.file_id for s in seen}
    fresh = [
        AgentFileRow(
            id=new_id("file_agent"), agent_id=agent_id, file_id=f.id, folder_id=f.folder_id
        )
        for f in files
        if f.id not in known
    ]
    await view_store.add_views(session, fresh)
    seen = await view_store.seen_files(session, agent_id)
    by_file = {s.view.file_id: s for s in seen}
    for file in files[-budget.max_open :]:
        await open_file(session, seen, by_file[file.id], budget)


async def show_new_file(session: AsyncSession, file: FileRow) -> None:
    """A file uploaded to a folder appears at once to every agent the folder is attached to."""
    for agent_id in await folder_store.agent_ids_of_folder(session, file.folder_id):
        await _show(session, agent_id, [file])


async def _give_file_tools(session: AsyncSession, agent_id: str) -> None:
    have = {t.id for t in (await attachment_store.tools_of_agents(session, [agent_id]))[agent_id]}
    wanted = await tool_store.tools_by_ids_or_names(session, ids=[], names=FILE_TOOL_NAMES)
    missing = [t.id for t in sorted(wanted, key=lambda t: FILE_TOOL_NAMES.index(t.name))]
    missing = [tool_id for tool_id in missing if tool_id not in have]
    if missing:
        position = await attachment_store.next_tool_position(session, agent_id)
        await attachment_store.attach_tools(session, agent_id, missing, start=position)


async def drop_file_tools_if_no_folder(session: AsyncSession, agent_id: str) -> None:
    if await folder_store.folder_count_of_agent(session, agent_id):
        return
    for tool in await tool_store.tools_by_ids_or_names(session, ids=[], names=FILE_TOOL_NAMES):
        await attachment_store.detach_tool(session, agent_id, tool.id)


async def attach_folders(session: AsyncSession, agent_id: str, folder_ids: list[str]) -> None:
    """Attach the folders (404 for an unknown one: the caller's transaction then changes
    nothing), show their files and give the agent the file tools."""
    for folder_id in folder_ids:
        await folder_store.get_folder(session, folder_id)
        if await folder_store.attach(session, agent_id, folder_id):
            await _show(session, agent_id, await file_store.files_of_folder(session, folder_id))
    if folder_ids:
        await _give_file_tools(session, agent_id)


async def replace_folders(session: AsyncSession, agent_id: str, folder_ids: list[str]) -> None:
    """Make `folder_ids` the agent's folders (a PATCH of the agent, as Letta's UpdateAgent):
    the others detached with their files, the new ones attached (404 for an unknown one: the
    caller's transaction then changes nothing); with none left, the file tools go."""
    attached = [f.id for f in (await folder_store.folders_of_agents(session, [agent_id]))[agent_id]]
    for folder_id in attached:
        if folder_id not in folder_ids:
            await folder_store.detach(session, agent_id, folder_id)
            await view_store.drop_folder_views(session, agent_id, folder_id)
    await attach_folders(session, agent_id, [f for f in folder_ids if f not in attached])
    await drop_file_tools_if_no_folder(session, agent_id)


async def attach_folder(db: Database, agent_id: str, folder_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await attach_folders(session, agent_id, [folder_id])
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def detach_folder(db: Database, agent_id: str, folder_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await folder_store.get_folder(session, folder_id)
        await folder_store.detach(session, agent_id, folder_id)
        await view_store.drop_folder_views(session, agent_id, folder_id)
        await drop_file_tools_if_no_folder(session, agent_id)
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def folders_of_agent(db: Database, agent_id: str, page: Page) -> list[Folder]:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        return [
            folder_view(r) for r in await folder_store.folders_of_agent(session, agent_id, page)
        ]


async def agents_of_folder(db: Database, folder_id: str) -> list[str]:
    async with db.read() as session:
        await folder_store.get_folder(session, folder_id)
        return await folder_store.agent_ids_of_folder(session, folder_id)


async def files_of_agent(
    db: Database, agent_id: str, page: Page, *, is_open: bool | None = None
) -> list[AgentFile]:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        seen = await view_store.page_of_seen_files(session, agent_id, page, is_open=is_open)
    return [agent_file_view(s) for s in seen]


async def files_page_of_agent(
    db: Database, agent_id: str, page: Page, *, is_open: bool | None = None
) -> AgentFilesPage:
    """The 1.x shape: one more is read to tell whether another page follows."""
    files = await files_of_agent(
        db, agent_id, Page(page.limit + 1, page.after, page.before, page.order), is_open=is_open
    )
    more = len(files) > page.limit
    files = files[: page.limit]
    return AgentFilesPage(files=files, next_cursor=files[-1].id if more else None, has_more=more)


async def _seen_file(
    session: AsyncSession, agent_id: str, file_id: str
) -> tuple[list[SeenFile], SeenFile]:
    await agent_store.get_agent_row(session, agent_id)
    seen = await view_store.seen_files(session, agent_id)
    for item in seen:
        if item.view.file_id == file_id:
            return seen, item
    raise NotFound(f"file {file_id!r} is not attached to agent {agent_id!r}")


async def open_agent_file(db: Database, agent_id: str, file_id: str) -> list[str]:
    """Open the whole file for the agent; the names of the files closed to make room."""
    async with db.write() as session:
        seen, target = await _seen_file(session, agent_id, file_id)
        return await open_file(session, seen, target, await file_budget_of(session, agent_id))


async def close_agent_file(db: Database, agent_id: str, file_id: str) -> str:
    async with db.write() as session:
        _seen, target = await _seen_file(session, agent_id, file_id)
        await view_store.close_views(session, [target.view])
    return f"file {target.full_name} closed"


async def close_all_files(db: Database, agent_id: str) -> list[str]:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        open_ = [s for s in await view_store.seen_files(session, agent_id) if s.view.is_open]
        await view_store.close_views(session, [s.view for s in open_])
    return [s.full_name for s in open_]
