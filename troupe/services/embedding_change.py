"""Changing an agent's embedding: its archives' passages are embedded again by the new
model before the agent switches, or the change is refused when another agent shares an
archive of the old one. Vectors of two models are never compared."""

from troupe.errors import Conflict, InvalidInput
from troupe.schemas.common import EmbeddingConfig
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.tools import archival_memory as archival

BATCH = 256  # passages embedded and written at a time


def differs(old: EmbeddingConfig, new: EmbeddingConfig) -> bool:
    before, after = archival.embedder_for(old)[1], archival.embedder_for(new)[1]
    return before != after or old.embedding_dim != new.embedding_dim


async def change_embedding(db: Database, agent_id: str, new: EmbeddingConfig) -> None:
    """Re-embed the passages of the agent's archives with `new` and give the archives its
    config; the caller then stores it on the agent."""
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        archives = await archive_store.archives_of_agent(session, agent_id)
        for archive in archives:
            others = set(await archive_store.agents_of_archive(session, archive.id)) - {agent_id}
            if others and await passage_store.count_passages(session, [archive.id]):
                raise Conflict(
                    f"archive {archive.id!r} is shared with {len(others)} other agent(s) and "
                    "holds passages of the current embedding; detach it from this agent "
                    "first, or change the embedding of every agent sharing it"
                )
    embedder, handle = archival.embedder_for(new)
    if embedder is None:
        raise InvalidInput("an agent's embedding cannot be changed to keyword-only search")
    for archive in archives:
        while True:
            async with db.read() as session:
                rows = await passage_store.not_embedded_by(
                    session, archive.id, handle, new.embedding_dim or None, BATCH
                )
            if not rows:
                break
            vectors = await embedder.embed([r.text for r in rows])
            async with db.write() as session:
                for row, vector in zip(rows, vectors, strict=True):
                    fresh = await passage_store.get_passage(session, row.id)
                    await passage_store.update_passage(session, fresh, embedding=(vector, handle))
        async with db.write() as session:
            stored = await archive_store.get_archive_row(session, archive.id)
            stored.embedding_config = new.model_dump()
