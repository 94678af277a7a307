"""Folders and their files: create, change, list, delete; upload a file (parsed, chunked
and embedded before anything is stored, then stored in one transaction)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict, InvalidInput, NotFound, TooLarge
from troupe.ids import new_id
from troupe.llm.base import ModelError, ModelNotConfigured
from troupe.llm.embeddings import (
    DEFAULT_EMBEDDING,
    Embedder,
    checked_config,
    config_for_handle,
    resolve_embedder,
)
from troupe.schemas.common import EmbeddingConfig
from troupe.schemas.folders import (
    DuplicateHandling,
    FileMetadata,
    FilePassage,
    Folder,
    FolderCreate,
    FolderUpdate,
    UploadJob,
)
from troupe.services import agent_files as agent_file_service
from troupe.services.folder_names import check_folder_name, file_name_of
from troupe.services.folder_views import file_view, folder_view, job_view, passage_view
from troupe.store import Database
from troupe.store import files as file_store
from troupe.store import folders as folder_store
from troupe.store.file_tables import FileRow, FolderRow
from troupe.store.paging import Page
from troupe.store.tables import utcnow
from troupe.tools.files.chunk import DEFAULT_CHUNK_CHARS, chunk_text
from troupe.tools.files.parse import parse_file

CHARS_PER_TOKEN = 4


EmbedderFor = Callable[[EmbeddingConfig], Embedder | None]


@dataclass(frozen=True)
class Embedded:
    vectors: list[list[float]]
    handle: str


@dataclass(frozen=True)
class FileIntake:
    """What an upload is held to, and what embeds a folder's passages (the embedder of its
    `embedding_config`; None for keyword search only)."""

    max_bytes: int
    embedder_for: EmbedderFor = resolve_embedder


def _embedding_of(body: FolderCreate) -> EmbeddingConfig:
    """A folder always has an embedding (its files are embedded at upload): the config sent,
    else the handle's, else the embedded model (no key, no network)."""
    if body.embedding_config is not None:
        return checked_config(body.embedding_config)  # one this server can serve, or a 422
    return config_for_handle(body.embedding or DEFAULT_EMBEDDING)


async def create_folder(db: Database, body: FolderCreate) -> Folder:
    check_folder_name(body.name)
    config = _embedding_of(body)
    if body.embedding_chunk_size:
        config = config.model_copy(update={"embedding_chunk_size": body.embedding_chunk_size})
    async with db.write() as session:
        if await folder_store.folder_by_name(session, body.name) is not None:
            raise Conflict(f"a folder named {body.name!r} exists already; choose another name")
        row = FolderRow(
            id=new_id("source"),
            name=body.name,
            description=body.description,
            instructions=body.instructions,
            embedding_config=config.model_dump(),
            metadata_=body.metadata,
        )
        session.add(row)
        await session.flush()
    return folder_view(row)


async def get_folder(db: Database, folder_id: str) -> Folder:
    async with db.read() as session:
        return folder_view(await folder_store.get_folder(session, folder_id))


async def folder_id_by_name(db: Database, name: str) -> str:
    async with db.read() as session:
        row = await folder_store.folder_by_name(session, name)
    if row is None:
        raise NotFound(f"folder {name!r} not found")
    return row.id


async def list_folders(db: Database, page: Page, *, name: str | None = None) -> list[Folder]:
    async with db.read() as session:
        return [folder_view(r) for r in await folder_store.list_folders(session, page, name=name)]


async def update_folder(db: Database, folder_id: str, body: FolderUpdate) -> Folder:
    changes = body.model_dump(exclude_unset=True)
    async with db.write() as session:
        row = await folder_store.get_folder(session, folder_id)
        name = changes.get("name")
        if name is not None and name != row.name:
            # A folder named with a '/' before the rule (an older troupe) keeps its name until
            # renamed: only a new name is held to it, so sending the old one back is no error.
            check_folder_name(name)
            if await folder_store.folder_by_name(session, name) is not None:
                raise Conflict(f"a folder named {name!r} exists already; choose another name")
            row.name = name
        for field in ("description", "instructions"):
            if field in changes:
                setattr(row, field, changes[field])
        if "metadata" in changes:
            row.metadata_ = changes["metadata"]
        if changes.get("embedding_config") is not None:
            row.embedding_config = await _changed_embedding(
                session, row, changes["embedding_config"]
            )
        row.updated_at = utcnow()
        await session.flush()
    return folder_view(row)


async def _changed_embedding(
    session: AsyncSession, row: FolderRow, sent: dict[str, Any]
) -> dict[str, Any]:
    """The folder's embedding config with the fields sent: one this server can serve (else
    422). Its files' passages were embedded with the old model, so another model or
    dimension is refused (409) while it holds files: a folder never mixes dimensions."""
    merged = {**row.embedding_config, **sent}
    if "handle" not in sent and {"embedding_model", "embedding_endpoint_type"} & sent.keys():
        merged.pop("handle", None)  # the model sent, not the old handle, says what embeds
    new = checked_config(EmbeddingConfig(**merged))
    old = EmbeddingConfig(**row.embedding_config)
    moved = (new.handle, new.embedding_dim) != (old.handle, old.embedding_dim)
    if moved and await file_store.files_of_folder(session, row.id):
        raise Conflict(
            f"folder {row.id} holds files embedded with {old.handle}; delete them before "
            "changing its embedding"
        )
    return new.model_dump()


async def delete_folder(db: Database, folder_id: str) -> None:
    """The folder, its files and passages; agents left with no folder lose the file tools."""
    async with db.write() as session:
        await folder_store.get_folder(session, folder_id)
        agent_ids = await folder_store.agent_ids_of_folder(session, folder_id)
        await folder_store.delete_folder(session, folder_id)
        for agent_id in agent_ids:
            await agent_file_service.drop_file_tools_if_no_folder(session, agent_id)


async def list_files(
    db: Database, folder_id: str, page: Page, *, include_content: bool = False
) -> list[FileMetadata]:
    async with db.read() as session:
        await folder_store.get_folder(session, folder_id)
        rows = await file_store.page_of_files(session, folder_id, page)
    return [file_view(r, include_content=include_content) for r in rows]


async def get_file(
    db: Database, folder_id: str, file_id: str, *, include_content: bool = False
) -> FileMetadata:
    async with db.read() as session:
        await folder_store.get_folder(session, folder_id)
        row = await file_store.get_file(session, file_id, folder_id=folder_id)
    return file_view(row, include_content=include_content)


async def get_upload_job(db: Database, job_id: str) -> UploadJob:
    async with db.read() as session:
        row = await file_store.file_by_job(session, job_id)
    if row is None:
        raise NotFound(f"job {job_id!r} not found")
    return job_view(row)


async def upload_jobs(db: Database, folder_id: str, page: Page) -> list[UploadJob]:
    """A page of the jobs of a folder's uploads (cursors: job ids); an unknown folder has
    none (a filter, as Letta's: it kept an upload's folder in its job's metadata)."""
    async with db.read() as session:
        rows = await file_store.page_of_upload_jobs(session, folder_id, page)
    return [job_view(r) for r in rows]


async def delete_file(db: Database, folder_id: str, file_id: str) -> None:
    async with db.write() as session:
        await folder_store.get_folder(session, folder_id)
        await file_store.get_file(session, file_id, folder_id=folder_id)
        await file_store.delete_file(session, file_id)


async def list_passages(db: Database, folder_id: str, page: Page) -> list[FilePassage]:
    async with db.read() as session:
        await folder_store.get_folder(session, folder_id)
        rows = await file_store.page_of_passages(session, folder_id, page)
    return [passage_view(r) for r in rows]


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    content_type: str | None = None
    duplicate_handling: DuplicateHandling = "suffix"


async def upload_file(db: Database, intake: FileIntake, folder_id: str, upload: Upload) -> FileRow:
    """Parse, chunk and embed the file, then store it, its passages, and its place in the
    context of every agent the folder is attached to, in one transaction. A file that cannot
    be read is refused before anything is written; one whose embedding fails is kept with
    status `error` and nothing else."""
    if len(upload.data) > intake.max_bytes:
        raise TooLarge(
            f"{upload.name!r} is {len(upload.data)} bytes; files may be at most "
            f"{intake.max_bytes} bytes (TROUPE_MAX_FILE_BYTES)"
        )
    name = file_name_of(upload.name)
    if not name or len(name) > 255:
        raise InvalidInput("a file needs a name of 1 to 255 characters")
    async with db.read() as session:
        folder = await folder_store.get_folder(session, folder_id)
    parsed = await asyncio.to_thread(parse_file, name, upload.data, upload.content_type)
    chunks = folder_chunks(folder.embedding_config, parsed.text)
    embedded, failure = await embed_chunks(
        intake, EmbeddingConfig(**folder.embedding_config), chunks
    )
    async with db.write() as session:
        await folder_store.get_folder(session, folder_id)
        stored_name = await _name_for(session, folder_id, name, upload.duplicate_handling)
        if stored_name is None:  # "skip": the file there already stands
            existing = await file_store.file_by_name(session, folder_id, name)
            assert existing is not None
            return existing
        row = FileRow(
            id=new_id("file"),
            folder_id=folder_id,
            file_name=stored_name,
            original_file_name=name,
            file_type=parsed.file_type,
            file_size=len(upload.data),
            content=parsed.text,
            processing_status="error" if failure else "completed",
            error_message=failure,
            total_chunks=len(chunks),
            chunks_embedded=len(chunks) if embedded is not None else 0,
            job_id=new_id("job"),
            created_at=utcnow(),
        )
        session.add(row)
        await session.flush()
        if failure is None:
            await file_store.insert_passages(
                session,
                row,
                chunks,
                embedded.vectors if embedded else None,
                embedded.handle if embedded else None,
            )
            await agent_file_service.show_new_file(session, row)
    return row


def folder_chunks(embedding_config: dict[str, Any], text: str) -> list[str]:
    """The text cut into the chunks a folder of that embedding config stores."""
    tokens = embedding_config.get("embedding_chunk_size")
    size = int(tokens) * CHARS_PER_TOKEN if tokens else DEFAULT_CHUNK_CHARS
    return chunk_text(text, size)


async def embed_chunks(
    intake: FileIntake, config: EmbeddingConfig, chunks: list[str]
) -> tuple[Embedded | None, str | None]:
    """The chunks' vectors and the embedder's handle (None for a keyword-only folder), or
    why they could not be made: the file is then kept with status `error` and that message,
    and no passages, as Letta shows a file whose embedding failed."""
    try:
        embedder = intake.embedder_for(config)
        if embedder is None or not chunks:
            return None, None
        return Embedded(await embedder.embed(chunks), embedder.handle), None
    except (ModelError, ModelNotConfigured) as error:
        return None, f"embedding failed: {error.message}"


async def _name_for(
    session: AsyncSession, folder_id: str, name: str, handling: DuplicateHandling
) -> str | None:
    """The name to store the file under, as `handling` says; None to keep the one there."""
    existing = await file_store.file_by_name(session, folder_id, name)
    if existing is None:
        return name
    if handling == "error":
        raise Conflict(f"the folder holds a file named {name!r} already")
    if handling == "skip":
        return None
    if handling == "replace":
        await file_store.delete_file(session, existing.id)
        await session.flush()
        return name
    path = PurePath(name)
    taken = await file_store.names_like(session, folder_id, path.stem)
    count = 1
    while f"{path.stem}_({count}){path.suffix}" in taken:
        count += 1
    return f"{path.stem}_({count}){path.suffix}"
