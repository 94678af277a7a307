"""Files of folders, and the passages (chunks) they are cut into for search."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.store.file_tables import AgentFileRow, FilePassageRow, FileRow, FolderRow
from troupe.store.messages import escape_like
from troupe.store.paging import Ordering, Page, by_creation, fetch_page
from troupe.store.vectors import normalised, search_method, similarity


async def get_file(session: AsyncSession, file_id: str, *, folder_id: str | None = None) -> FileRow:
    row = await session.get(FileRow, file_id)
    if row is None or (folder_id is not None and row.folder_id != folder_id):
        where = f" in folder {folder_id!r}" if folder_id is not None else ""
        raise NotFound(f"file {file_id!r} not found{where}")
    return row


async def file_by_job(session: AsyncSession, job_id: str) -> FileRow | None:
    stmt = select(FileRow).where(FileRow.job_id == job_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def file_by_name(session: AsyncSession, folder_id: str, file_name: str) -> FileRow | None:
    stmt = select(FileRow).where(FileRow.folder_id == folder_id, FileRow.file_name == file_name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def names_like(session: AsyncSession, folder_id: str, prefix: str) -> set[str]:
    """The folder's file names that start with `prefix`."""
    pattern = f"{escape_like(prefix)}%"
    stmt = select(FileRow.file_name).where(
        FileRow.folder_id == folder_id, FileRow.file_name.like(pattern, escape="\\")
    )
    return set((await session.execute(stmt)).scalars())


async def page_of_files(session: AsyncSession, folder_id: str, page: Page) -> list[FileRow]:
    stmt = select(FileRow).where(FileRow.folder_id == folder_id)
    return await fetch_page(session, stmt, by_creation(FileRow), page)


def _by_job_creation() -> Ordering:
    """Files by creation, a cursor naming one by its upload job's id (0.1.x's jobs)."""

    def cursor_keys(job_id: str) -> Sequence[Any]:
        of = select(FileRow).where(FileRow.job_id == job_id).subquery()
        return (select(of.c.created_at).scalar_subquery(), select(of.c.id).scalar_subquery())

    return Ordering((FileRow.created_at, FileRow.id), cursor_keys)


async def page_of_upload_jobs(session: AsyncSession, folder_id: str, page: Page) -> list[FileRow]:
    """The folder's files as the page of their upload jobs that `page` asks for."""
    stmt = select(FileRow).where(FileRow.folder_id == folder_id)
    return await fetch_page(session, stmt, _by_job_creation(), page)


async def files_of_folder(session: AsyncSession, folder_id: str) -> list[FileRow]:
    stmt = select(FileRow).where(FileRow.folder_id == folder_id)
    return list((await session.execute(stmt.order_by(FileRow.created_at, FileRow.id))).scalars())


async def insert_passages(
    session: AsyncSession,
    file: FileRow,
    chunks: Sequence[str],
    embeddings: Sequence[list[float]] | None,
    embedding_handle: str | None,
) -> None:
    """The file's passages, with their embeddings (stored normalised) if it has them."""
    if not chunks:
        return
    await session.execute(
        insert(FilePassageRow),
        [
            {
                "id": new_id("passage"),
                "file_id": file.id,
                "folder_id": file.folder_id,
                "seq": seq,
                "text": text,
                "embedding": normalised(embeddings[seq]) if embeddings is not None else None,
                "embedding_handle": embedding_handle if embeddings is not None else None,
                "created_at": file.created_at,
            }
            for seq, text in enumerate(chunks)
        ],
    )


async def delete_file(session: AsyncSession, file_id: str) -> None:
    """The file and, by cascade, its passages and the agents' views of it."""
    await session.execute(delete(FileRow).where(FileRow.id == file_id))


async def page_of_passages(
    session: AsyncSession, folder_id: str, page: Page
) -> list[FilePassageRow]:
    stmt = select(FilePassageRow).where(FilePassageRow.folder_id == folder_id)
    return await fetch_page(session, stmt, by_creation(FilePassageRow), page)


@dataclass(frozen=True)
class SeenPassage:
    passage: FilePassageRow
    file_name: str  # `folder/file`, as the agent knows it
    embedding_config: dict[str, Any]  # the folder's: what embedded the passage


def _seen_by(agent_id: str, *columns: Any) -> Select[Any]:
    return (
        select(
            FilePassageRow, FileRow.file_name, FolderRow.name, FolderRow.embedding_config, *columns
        )
        .join(FileRow, FileRow.id == FilePassageRow.file_id)
        .join(FolderRow, FolderRow.id == FilePassageRow.folder_id)
        .join(AgentFileRow, AgentFileRow.file_id == FilePassageRow.file_id)
        .where(AgentFileRow.agent_id == agent_id)
    )


async def embedding_configs_seen_by(session: AsyncSession, agent_id: str) -> list[dict[str, Any]]:
    """The embedding configs of the folders whose files the agent sees (one per embedder)."""
    stmt = (
        select(FolderRow.embedding_config)
        .join(AgentFileRow, AgentFileRow.folder_id == FolderRow.id)
        .where(AgentFileRow.agent_id == agent_id)
    )
    configs: dict[str, dict[str, Any]] = {}
    for (config,) in await session.execute(stmt):
        configs.setdefault(repr(sorted(config.items())), config)
    return list(configs.values())


async def nearest_passages(
    session: AsyncSession, agent_id: str, query: list[float], handle: str, limit: int
) -> list[tuple[SeenPassage, float]]:
    """The passages of the agent's files embedded by `handle` nearest `query`, best first,
    with their cosine similarity (in SQL, as archival search: troupe.store.vectors)."""
    vector = normalised(query)
    score = similarity(await search_method(session), vector, FilePassageRow.embedding)
    stmt = _seen_by(agent_id, score.label("score")).where(FilePassageRow.embedding_handle == handle)
    stmt = stmt.order_by(score.desc(), FilePassageRow.id).limit(limit)
    return [
        (SeenPassage(passage, f"{folder}/{file_name}", config), float(value or 0.0))
        for passage, file_name, folder, config, value in await session.execute(stmt)
    ]


async def passages_seen_by(
    session: AsyncSession, agent_id: str, words: Sequence[str] = (), *, unembedded: bool = False
) -> list[SeenPassage]:
    """The passages of the files the agent sees; with `words`, only passages holding at
    least one of them; `unembedded`: only those with no embedding (keyword-only folders)."""
    stmt = _seen_by(agent_id)
    if unembedded:
        stmt = stmt.where(FilePassageRow.embedding.is_(None))
    if words:
        stmt = stmt.where(
            or_(*(FilePassageRow.text.ilike(f"%{escape_like(w)}%", escape="\\") for w in words))
        )
    stmt = stmt.order_by(FilePassageRow.file_id, FilePassageRow.seq)
    return [
        SeenPassage(passage, f"{folder}/{file_name}", config)
        for passage, file_name, folder, config in await session.execute(stmt)
    ]
