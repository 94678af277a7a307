"""Archives: archival memory shared by agents, as they share blocks. An archive's passages
are embedded by the archive's own embedding; an agent attaches only archives of its own
embedding, so one search never compares vectors of two models."""

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.llm.embeddings import DEFAULT_EMBEDDING, config_for_handle
from troupe.schemas.passages import (
    Archive,
    ArchiveCreate,
    ArchiveUpdate,
    Passage,
    PassageCreate,
    PassageSearch,
    PassageSearchItem,
)
from troupe.services.agent_settings import embedding_settings
from troupe.services.passage_views import archive_view, passage_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.paging import Page
from troupe.store.passages import NewPassage, PassageFilter
from troupe.store.tables import ArchiveRow
from troupe.tools import archival_memory as archival


async def create_archive(db: Database, body: ArchiveCreate) -> Archive:
    named = embedding_settings(body.embedding, body.embedding_config)
    config = named or config_for_handle(DEFAULT_EMBEDDING)
    async with db.write() as session:
        row = await archive_store.create_archive(
            session,
            name=body.name,
            description=body.description,
            metadata=body.metadata,
            embedding_config=config.model_dump(),
        )
        return archive_view(row)


async def get_archive(db: Database, archive_id: str) -> Archive:
    async with db.read() as session:
        return archive_view(await archive_store.get_archive_row(session, archive_id))


async def list_archives(
    db: Database, page: Page, *, name: str | None, agent_id: str | None
) -> list[Archive]:
    async with db.read() as session:
        rows = await archive_store.list_archives(session, page, name=name, agent_id=agent_id)
        return [archive_view(r) for r in rows]


async def update_archive(db: Database, archive_id: str, body: ArchiveUpdate) -> Archive:
    async with db.write() as session:
        row = await archive_store.get_archive_row(session, archive_id)
        if body.name is not None:
            row.name = body.name
        if "description" in body.model_fields_set:
            row.description = body.description
        if "metadata" in body.model_fields_set:
            row.metadata_ = body.metadata
        await session.flush()
        return archive_view(row)


async def delete_archive(db: Database, archive_id: str) -> None:
    async with db.write() as session:
        await archive_store.delete_archive(session, archive_id)


async def add_passages(
    db: Database, archive_id: str, passages: list[PassageCreate]
) -> list[Passage]:
    """Embed with the archive's embedding, then store, all or nothing."""
    async with db.read() as session:
        config = archival.config_of(await archive_store.get_archive_row(session, archive_id))
    embedder, handle = archival.embedder_for(config)
    vectors = await archival.embed(embedder, [p.text for p in passages])
    new = [
        NewPassage(p.text, v, p.tags or (), p.metadata, p.created_at)
        for p, v in zip(passages, vectors, strict=True)
    ]
    async with db.write() as session:
        archive = await archive_store.get_archive_row(session, archive_id)
        archival.check_same_embedding(archive, config, "this request")
        rows = await passage_store.insert_passages(
            session, archive_id, new, agent_id=None, embedding_handle=handle
        )
    return [passage_view(r, config) for r in rows]


async def delete_passage(db: Database, archive_id: str, passage_id: str) -> None:
    async with db.write() as session:
        await archive_store.get_archive_row(session, archive_id)
        row = await passage_store.get_passage(session, passage_id)
        if row.archive_id != archive_id:
            raise NotFound(f"passage {passage_id!r} is not in archive {archive_id!r}")
        await passage_store.delete_passage(session, passage_id)


async def attach(db: Database, agent_id: str, archive_id: str) -> None:
    async with db.write() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        archive = await archive_store.get_archive_row(session, archive_id)
        archival.check_same_embedding(archive, archival.config_of(agent), f"agent {agent_id!r}")
        await archive_store.attach_archive(session, agent_id, archive_id)


async def detach(db: Database, agent_id: str, archive_id: str) -> None:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await archive_store.get_archive_row(session, archive_id)
        await archive_store.detach_archive(session, agent_id, archive_id)


async def search(db: Database, body: PassageSearch) -> list[PassageSearchItem]:
    """Over the archives named (an archive, an agent's, both: those in both; neither: all),
    each group of one embedding searched with its own query vector."""
    async with db.read() as session:
        archives = await _archives_searched(session, body)
    groups: dict[str, list[ArchiveRow]] = {}
    for archive in archives:
        groups.setdefault(archival.embedder_for(archival.config_of(archive))[1], []).append(archive)
    found: list[PassageSearchItem] = []
    for members in groups.values():
        config = archival.config_of(members[0])
        embedder, handle = archival.embedder_for(config)
        query = body.query or ""
        (vector,) = await archival.embed(embedder, [query]) if query.strip() else [None]
        where = PassageFilter(
            [a.id for a in members],
            tags=body.tags or (),
            match_all_tags=body.tag_match_mode == "all",
            start=body.start_date,
            end=body.end_date,
        )
        async with db.read() as session:
            hits = await archival.search(
                session, where, query, body.limit, query_vector=vector, handle=handle
            )
        found += [
            PassageSearchItem(passage=passage_view(h.passage, config), score=h.score) for h in hits
        ]
    found.sort(key=lambda item: -item.score)
    return found[: body.limit]


async def _archives_searched(session: AsyncSession, body: PassageSearch) -> list[ArchiveRow]:
    archives = None
    if body.agent_id is not None:
        await agent_store.get_agent_row(session, body.agent_id)
        archives = await archive_store.archives_of_agent(session, body.agent_id)
    if body.archive_id is not None:
        archive = await archive_store.get_archive_row(session, body.archive_id)
        archives = [a for a in archives or [archive] if a.id == archive.id]
    return archives if archives is not None else await archive_store.all_archives(session)
