"""An agent's archival memory through the API: insert, list, search, change, delete. Texts
are embedded by the agent's embedder before the write transaction opens, so a slow
provider holds no lock."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput, NotFound
from troupe.llm.embeddings import embedding_handle
from troupe.schemas.common import EmbeddingConfig
from troupe.schemas.passages import (
    ArchivalSearchResponse,
    Passage,
    PassageCreate,
    PassageUpdate,
    TagMatch,
)
from troupe.services.passage_views import passage_view, search_result_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.paging import Page
from troupe.store.passages import NewPassage, PassageFilter
from troupe.store.tables import PassageRow
from troupe.tools import archival_memory as archival


async def insert(db: Database, agent_id: str, body: PassageCreate) -> list[Passage]:
    async with db.read() as session:
        config = archival.config_of(await agent_store.get_agent_row(session, agent_id))
    embedder, _ = archival.embedder_for(config)
    (vector,) = await archival.embed(embedder, [body.text])
    passage = NewPassage(body.text, vector, body.tags or (), body.metadata, body.created_at)
    async with db.write() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        if archival.config_of(agent) != config:
            raise InvalidInput("the agent's embedding changed during this insert; send it again")
        rows = await archival.insert_for_agent(session, agent, [passage])
    return [passage_view(r, config) for r in rows]


async def list_passages(
    db: Database, agent_id: str, page: Page, search: str | None
) -> list[Passage]:
    async with db.read() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        archives = await archive_store.archives_of_agent(session, agent_id)
        words = archival.keywords(search or "") or ([search] if search else [])
        where = PassageFilter([a.id for a in archives], words=words)
        rows = await passage_store.list_passages(session, where, page)
    config = archival.config_of(agent)
    return [passage_view(r, config) for r in rows]


async def search(
    db: Database,
    agent_id: str,
    query: str,
    *,
    tags: list[str] | None,
    tag_match_mode: TagMatch,
    start: datetime | None,
    end: datetime | None,
    top_k: int,
) -> ArchivalSearchResponse:
    async with db.read() as session:
        config = archival.config_of(await agent_store.get_agent_row(session, agent_id))
    embedder, handle = archival.embedder_for(config)
    (vector,) = await archival.embed(embedder, [query]) if query.strip() else [None]
    async with db.read() as session:
        archives = await archive_store.archives_of_agent(session, agent_id)
        where = PassageFilter(
            [a.id for a in archives],
            tags=tags or (),
            match_all_tags=tag_match_mode == "all",
            start=start,
            end=end,
        )
        found = await archival.search(
            session, where, query, top_k, query_vector=vector, handle=handle
        )
    results = [search_result_view(f.passage) for f in found]
    return ArchivalSearchResponse(count=len(results), results=results)


async def delete(db: Database, agent_id: str, passage_id: str) -> None:
    async with db.write() as session:
        await _agents_passage(session, agent_id, passage_id)
        await passage_store.delete_passage(session, passage_id)


async def update(
    db: Database, agent_id: str, passage_id: str, body: PassageUpdate
) -> list[Passage]:
    """0.1.x: change a passage's text, tags or metadata; a new text is embedded again."""
    async with db.read() as session:
        config = archival.config_of(await agent_store.get_agent_row(session, agent_id))
        await _agents_passage(session, agent_id, passage_id)
    embedder, handle = archival.embedder_for(config)
    embedding = None
    if body.embedding is not None:
        _check_dimension(body.embedding, config)
        embedding = (body.embedding, handle)
    elif body.text is not None and embedder is not None:
        embedding = ((await embedder.embed([body.text]))[0], handle)
    async with db.write() as session:
        row = await _agents_passage(session, agent_id, passage_id)
        await passage_store.update_passage(
            session,
            row,
            text=body.text,
            tags=body.tags,
            metadata=body.metadata,
            embedding=embedding,
        )
        return [passage_view(row, config)]


def _check_dimension(vector: list[float], config: EmbeddingConfig) -> None:
    if len(vector) != config.embedding_dim:
        raise InvalidInput(
            f"the embedding has {len(vector)} dimensions; this agent's embedding "
            f"({embedding_handle(config)}) has {config.embedding_dim}"
        )


async def _agents_passage(session: AsyncSession, agent_id: str, passage_id: str) -> PassageRow:
    """The passage, if it is in one of the agent's archives."""
    await agent_store.get_agent_row(session, agent_id)
    row = await passage_store.get_passage(session, passage_id)
    archive_ids = {a.id for a in await archive_store.archives_of_agent(session, agent_id)}
    if row.archive_id not in archive_ids:
        raise NotFound(
            f"passage {passage_id!r} is not in the archival memory of agent {agent_id!r}"
        )
    return row
