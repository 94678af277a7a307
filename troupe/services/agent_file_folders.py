"""The folders of an Agent File (Letta's `sources`), their `files`, and what each agent sees
of them (`files_agents`): written with the text of every file; read back by creating the
folders, re-chunking and embedding each file's text with this server's embedder (before the
import's transaction, so the whole file still imports in one), attaching the folders to the
imported agents, and opening the files the file says are open."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.llm.embeddings import DEFAULT_EMBEDDING, config_for_handle
from troupe.schemas.agent_file import AgentFile, FileAgentSchema, FileSchema, SourceSchema
from troupe.schemas.common import EmbeddingConfig
from troupe.services.agent_files import attach_folders, file_budget_of
from troupe.services.folder_names import file_name_of, imported_folder_name
from troupe.services.folders import Embedded, FileIntake, embed_chunks, folder_chunks
from troupe.services.imported_models import embedding_of_file, file_handle
from troupe.store import agent_files as view_store
from troupe.store import files as file_store
from troupe.store import folders as folder_store
from troupe.store.agent_files import SeenFile
from troupe.store.file_tables import FileRow, FolderRow
from troupe.store.tables import utcnow
from troupe.tools.files.opening import open_file

FileIdOf = Callable[[str, str], str]


@dataclass
class TeamFolders:
    """The folders the exported agents use, their files, and each agent's view of them."""

    folders: dict[str, list[FolderRow]]  # by agent id, in attachment order
    files: dict[str, list[FileRow]]  # by folder id
    seen: dict[str, list[SeenFile]]  # by agent id


async def load_team_folders(session: AsyncSession, agent_ids: Sequence[str]) -> TeamFolders:
    folders = await folder_store.folders_of_agents(session, agent_ids)
    unique = {f.id for rows in folders.values() for f in rows}
    files = {f: await file_store.files_of_folder(session, f) for f in sorted(unique)}
    seen = {a: await view_store.seen_files(session, a) for a in agent_ids}
    return TeamFolders(dict(folders), files, seen)


@dataclass
class FolderSection:
    sources: list[SourceSchema] = field(default_factory=list)
    files: list[FileSchema] = field(default_factory=list)


def folder_section(team: TeamFolders, of: FileIdOf) -> FolderSection:
    """`sources` and `files`, every folder once (call after the agents have their ids)."""
    section = FolderSection()
    folders = {f.id: f for rows in team.folders.values() for f in rows}
    for folder in folders.values():
        section.sources.append(
            SourceSchema(
                id=of("source", folder.id),
                name=folder.name,
                description=folder.description,
                instructions=folder.instructions,
                metadata=folder.metadata_,
                embedding_config=folder.embedding_config,
            )
        )
        section.files.extend(_file_schema(f, of) for f in team.files.get(folder.id, []))
    return section


def _file_schema(file: FileRow, of: FileIdOf) -> FileSchema:
    return FileSchema(
        id=of("file", file.id),
        source_id=of("source", file.folder_id),
        file_name=file.file_name,
        original_file_name=file.original_file_name,
        file_type=file.file_type,
        file_size=file.file_size,
        processing_status=file.processing_status,
        error_message=file.error_message,
        total_chunks=file.total_chunks,
        chunks_embedded=file.chunks_embedded,
        content=file.content,
    )


def agent_folder_links(
    team: TeamFolders, agent_id: str, of: FileIdOf
) -> tuple[list[str], list[FileAgentSchema]]:
    """The agent's `source_ids` and `files_agents`."""
    sources = [of("source", f.id) for f in team.folders.get(agent_id, [])]
    views = [
        FileAgentSchema(
            id=of("file_agent", s.view.id),
            agent_id=of("agent", agent_id),
            file_id=of("file", s.view.file_id),
            source_id=of("source", s.view.folder_id),
            file_name=s.full_name,
            is_open=s.view.is_open,
            visible_content=s.view.visible_content,
            last_accessed_at=s.view.last_accessed_at,
            start_line=s.view.start_line,
            end_line=s.view.end_line,
        )
        for s in team.seen.get(agent_id, [])
    ]
    return sources, views


@dataclass
class PlannedFile:
    row: FileRow
    chunks: list[str]
    embedded: Embedded | None


@dataclass
class FolderPlan:
    """The file's folders and files as rows of this server, by file id, embedded already."""

    folders: dict[str, FolderRow] = field(default_factory=dict)
    files: dict[str, PlannedFile] = field(default_factory=dict)


def check_folder_refs(agent_file: AgentFile) -> None:
    sources = {s.id for s in agent_file.sources}
    files = {f.id: f.source_id for f in agent_file.files}
    if len(sources) != len(agent_file.sources) or len(files) != len(agent_file.files):
        raise InvalidInput("agent file: two sources or two files share an id")
    for file in agent_file.files:
        if file.source_id not in sources:
            raise InvalidInput(f"agent file: file {file.id!r} names source {file.source_id!r}")
    for agent in agent_file.agents:
        for source_id in agent.source_ids + (agent.folder_ids or []):
            if source_id not in sources:
                raise InvalidInput(f"agent file: agent {agent.name!r} names source {source_id!r}")
        for view in agent.files_agents:
            if view.file_id not in files:
                raise InvalidInput(f"agent file: agent {agent.name!r} names file {view.file_id!r}")


def _folder_embedding(source: SourceSchema, override: str | None) -> EmbeddingConfig:
    handle = file_handle(source.embedding_config) or source.embedding
    config = embedding_of_file(handle, override) or config_for_handle(DEFAULT_EMBEDDING)
    chunk = (source.embedding_config or {}).get("embedding_chunk_size")
    chunk = source.embedding_chunk_size or chunk
    if isinstance(chunk, int) and 0 < chunk <= 1_000_000:
        config = config.model_copy(update={"embedding_chunk_size": chunk})
    return config


async def plan_folders(
    agent_file: AgentFile, intake: FileIntake, embedding: str | None
) -> FolderPlan:
    """Rows for the file's folders and files, each file's text chunked and embedded by the
    folder's embedder (a file whose embedding fails is kept with status `error`, as an
    upload is)."""
    check_folder_refs(agent_file)
    plan = FolderPlan()
    for source in agent_file.sources:
        config = _folder_embedding(source, embedding)
        plan.folders[source.id] = FolderRow(
            id=new_id("source"),
            name=imported_folder_name(source.name),
            description=source.description,
            instructions=source.instructions,
            embedding_config=config.model_dump(),
            metadata_=source.metadata,
        )
    names = _file_names(agent_file)
    for file in agent_file.files:
        folder = plan.folders[file.source_id]
        text = file.content or ""
        chunks = folder_chunks(folder.embedding_config, text)
        config = EmbeddingConfig(**folder.embedding_config)
        embedded, failure = await embed_chunks(intake, config, chunks)
        if not text and file.processing_status not in (None, "completed"):
            failure = file.error_message or "the agent file holds no text for this file"
        row = _file_row(file, names[file.id], folder, chunks, failure)
        plan.files[file.id] = PlannedFile(row, chunks, embedded)
    return plan


def _file_names(agent_file: AgentFile) -> dict[str, str]:
    """Each file's name in its folder, by file id: the last part of the name the file gives
    (Letta writes `folder/file`; troupe's own file names hold no '/'), as an upload's. Two
    files of one folder left with one name are refused before anything is written."""
    names: dict[str, str] = {}
    taken: dict[tuple[str, str], str] = {}
    for file in agent_file.files:
        given = file.file_name or file.original_file_name or ""
        name = file_name_of(given) or f"{file.id}.txt"
        other = taken.setdefault((file.source_id, name), file.id)
        if other != file.id:
            raise InvalidInput(
                f"agent file: files {other!r} and {file.id!r} of source {file.source_id!r} "
                f"are both named {name!r} (a file's name is the part after its last '/')"
            )
        names[file.id] = name
    return names


def _file_row(
    file: FileSchema, name: str, folder: FolderRow, chunks: list[str], failure: str | None
) -> FileRow:
    text = file.content or ""
    original = file_name_of(file.original_file_name or "") or name
    return FileRow(
        id=new_id("file"),
        folder_id=folder.id,
        file_name=name,
        original_file_name=original,
        file_type=file.file_type or "text/plain",
        file_size=file.file_size if file.file_size is not None else len(text.encode()),
        content=text,
        processing_status="error" if failure else "completed",
        error_message=failure,
        total_chunks=len(chunks),
        chunks_embedded=0 if failure else len(chunks),
        job_id=new_id("job"),
        created_at=utcnow(),
    )


async def _free_name(session: AsyncSession, name: str, taken: set[str]) -> str:
    """The folder's name, or `name_(n)` when this server (or the file) has one so named."""
    candidate, count = name, 0
    while candidate in taken or await folder_store.folder_by_name(session, candidate):
        count += 1
        candidate = f"{name}_({count})"
    taken.add(candidate)
    return candidate


async def store_folders(
    session: AsyncSession, agent_file: AgentFile, plan: FolderPlan, new_agents: dict[str, str]
) -> None:
    """Create the folders and files, attach them to the agents, open what was open."""
    taken: set[str] = set()
    for folder in plan.folders.values():
        folder.name = await _free_name(session, folder.name, taken)
        session.add(folder)
    await session.flush()
    for planned in plan.files.values():
        session.add(planned.row)
        await session.flush()
        if planned.row.processing_status == "completed":
            vectors = planned.embedded.vectors if planned.embedded else None
            handle = planned.embedded.handle if planned.embedded else None
            await file_store.insert_passages(session, planned.row, planned.chunks, vectors, handle)
    for spec in agent_file.agents:
        agent_id = new_agents[spec.id]
        wanted = dict.fromkeys(spec.source_ids + (spec.folder_ids or []))
        await attach_folders(session, agent_id, [plan.folders[s].id for s in wanted])
        await _restore_views(session, agent_id, spec.files_agents, plan)


async def _restore_views(
    session: AsyncSession, agent_id: str, views: list[FileAgentSchema], plan: FolderPlan
) -> None:
    """Close the files the file says are closed, then open the ones it says are open."""
    seen = await view_store.seen_files(session, agent_id)
    by_file = {s.view.file_id: s for s in seen}
    targets = [(v, by_file.get(plan.files[v.file_id].row.id)) for v in views]
    await view_store.close_views(session, [s.view for v, s in targets if s and not v.is_open])
    budget = await file_budget_of(session, agent_id)
    for view, target in targets:
        if target is not None and view.is_open:
            try:
                await open_file(session, seen, target, budget, _window(view))
            except InvalidInput:  # a window past the file's end: show the whole file
                await open_file(session, seen, target, budget)


def _window(view: FileAgentSchema) -> tuple[int | None, int | None]:
    """(offset, length) of the lines the agent had open; the whole file when not said."""
    if view.start_line is None or view.end_line is None:
        return None, None
    return view.start_line, max(1, view.end_line - view.start_line + 1)
