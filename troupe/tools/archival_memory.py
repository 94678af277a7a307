"""Archival memory as an agent has it: its archives, its embedder, and the hybrid search
(vector similarity fused with keyword matches). The archival tools and the API services
both go through here, so the agent's `embedding_config` is honoured the same everywhere."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict
from troupe.llm.embeddings import (
    DEFAULT_EMBEDDING,
    Embedder,
    config_for_handle,
    embedding_handle,
    resolve_embedder,
)
from troupe.schemas.common import EmbeddingConfig
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter
from troupe.store.tables import AgentRow, ArchiveRow, PassageRow

# What a passage holding every keyword of the query gains over its cosine similarity:
# enough to lift an exact name or term, too little to outweigh a clearly closer meaning.
KEYWORD_WEIGHT = 0.15
MIN_CANDIDATES = 50  # fetched from each ranking before fusing
MAX_KEYWORDS = 16
_STOPWORD_TEXT = (
    "the and for are but not you your all any can had her was one our out has him his how "
    "its may new now old see two who did get let put say she too use what when where which "
    "while with would about after again also been before being between both could does "
    "doing down during each from further have having here into just more most much must off "
    "once only other over same should some such than that their them then there these they "
    "this those through under until very were will"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Found:
    passage: PassageRow
    score: float


def config_of(owner: AgentRow | ArchiveRow) -> EmbeddingConfig:
    """An agent's or archive's embedding; the embedded embedder's where none was named."""
    if not owner.embedding_config:
        return config_for_handle(DEFAULT_EMBEDDING)
    return EmbeddingConfig.model_validate(owner.embedding_config)


def embedder_for(config: EmbeddingConfig) -> tuple[Embedder | None, str]:
    """The embedder of a config and the handle its vectors are stored under."""
    return resolve_embedder(config), embedding_handle(config)


async def embed(embedder: Embedder | None, texts: Sequence[str]) -> list[list[float] | None]:
    if embedder is None:
        return [None] * len(texts)
    return list(await embedder.embed(list(texts)))


async def insert_archive_of(session: AsyncSession, agent: AgentRow) -> ArchiveRow:
    """Where the agent's inserts go: its first archive, made (and attached) when it has
    none."""
    archives = await archive_store.archives_of_agent(session, agent.id)
    if archives:
        return archives[0]
    archive = await archive_store.create_archive(
        session,
        name=f"{agent.name}'s archival memory",
        embedding_config=config_of(agent).model_dump(),
    )
    await archive_store.attach_archive(session, agent.id, archive.id)
    return archive


def check_same_embedding(archive: ArchiveRow, config: EmbeddingConfig, who: str) -> None:
    """Vectors of two embeddings are never mixed in one archive."""
    theirs = config_of(archive)
    if embedding_handle(theirs) != embedding_handle(config) or (
        theirs.embedding_dim != config.embedding_dim
    ):
        raise Conflict(
            f"archive {archive.id!r} holds vectors of {embedding_handle(theirs)} "
            f"({theirs.embedding_dim} dimensions) but {who} embeds with "
            f"{embedding_handle(config)} ({config.embedding_dim} dimensions); "
            "use an archive of the same embedding"
        )


async def insert_for_agent(
    session: AsyncSession, agent: AgentRow, passages: Sequence[NewPassage]
) -> list[PassageRow]:
    """Store passages already embedded with the agent's embedder into its insert archive."""
    config = config_of(agent)
    archive = await insert_archive_of(session, agent)
    check_same_embedding(archive, config, f"agent {agent.id!r}")
    return await passage_store.insert_passages(
        session, archive.id, passages, agent_id=agent.id, embedding_handle=embedding_handle(config)
    )


async def search(
    session: AsyncSession,
    where: PassageFilter,
    query: str,
    limit: int,
    *,
    query_vector: list[float] | None,
    handle: str,
) -> list[Found]:
    """Passages best matching `query`: by cosine similarity to its vector, raised by the
    share of its keywords each contains; keyword matches alone for an agent without
    embeddings; with no query, the newest."""
    if not query.strip():
        return [Found(p, 0.0) for p in await passage_store.newest(session, where, limit)]
    candidates = max(limit * 4, MIN_CANDIDATES)
    # Both rankings by id (over the archives' versions read once), then only the winners'
    # rows read: one round trip for the rows of `limit` passages, not two for 2 × candidates.
    versions = await passage_store.held_versions(session, where)
    near: list[tuple[str, float]] = []
    if query_vector is not None:
        near = await passage_store.nearest_ranked(
            session, where, query_vector, handle, candidates, versions
        )
    matched = await passage_store.keyword_ranked(
        session, where, keywords(query), candidates, versions
    )
    best = combine(near, matched, limit)
    return [Found(row, score) for row, score in await passage_store.rows_of(session, best)]


def combine(
    near: list[tuple[str, float]], matched: list[tuple[str, float]], limit: int
) -> list[tuple[str, float]]:
    """Hybrid ranking of passage ids: similarity + KEYWORD_WEIGHT × keyword share. A keyword
    match beyond the vector candidates counts as the least similar of them."""
    similarity = dict(near)
    share = dict(matched)
    ids = dict.fromkeys(pid for pid, _ in [*near, *matched])
    floor = min(similarity.values(), default=0.0)
    scores = {pid: similarity.get(pid, floor) + KEYWORD_WEIGHT * share.get(pid, 0.0) for pid in ids}
    best = sorted(scores, key=lambda pid: -scores[pid])[:limit]
    return [(pid, scores[pid]) for pid in best]


def keywords(query: str) -> list[str]:
    """The query's content words: three letters or more, common function words left out."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) >= 3 and w not in STOPWORDS]
    return list(dict.fromkeys(words))[:MAX_KEYWORDS]
