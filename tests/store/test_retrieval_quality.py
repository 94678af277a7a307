"""Retrieval quality on the paraphrase set (tests/support/retrieval_set.py): the hybrid
search, through the real store on SQLite (sqlite-vec) and PostgreSQL (exact search), with
the embedded embedder, finds the passage each question is about; keyword search alone
cannot, since no pair shares a content word."""

import re

import pytest

from tests.support.retrieval_set import PAIRS
from troupe.llm.embeddings import DEFAULT_EMBEDDING, config_for_handle, resolve_embedder
from troupe.store import Database
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter
from troupe.tools import archival_memory as archival


def test_the_set_is_large_enough_and_pairs_share_no_content_word() -> None:
    assert len(PAIRS) >= 50
    assert len({p for _, p in PAIRS}) == len(PAIRS)
    for query, passage in PAIRS:
        words = re.findall(r"\w+", passage.lower())
        shared = [w for w in archival.keywords(query) if any(x.startswith(w) for x in words)]
        assert shared == [], (query, passage)


async def _recall_at_1(store: Database, *, with_vectors: bool) -> float:
    embedder = resolve_embedder(config_for_handle(DEFAULT_EMBEDDING))
    assert embedder is not None
    texts = [p for _, p in PAIRS]
    vectors = await embedder.embed(texts)
    async with store.write() as session:
        archive = await archive_store.create_archive(
            session,
            name="quality",
            embedding_config=config_for_handle(DEFAULT_EMBEDDING).model_dump(),
        )
        rows = await passage_store.insert_passages(
            session,
            archive.id,
            [NewPassage(t, v) for t, v in zip(texts, vectors, strict=True)],
            agent_id=None,
            embedding_handle=embedder.handle,
        )
    ids = {row.text: row.id for row in rows}
    queries = await embedder.embed([q for q, _ in PAIRS])
    hits = 0
    async with store.read() as session:
        for (query, passage), vector in zip(PAIRS, queries, strict=True):
            found = await archival.search(
                session,
                PassageFilter([archive.id]),
                query,
                1,
                query_vector=vector if with_vectors else None,
                handle=embedder.handle,
            )
            hits += bool(found) and found[0].passage.id == ids[passage]
    return hits / len(PAIRS)


async def test_hybrid_search_finds_paraphrases(store: Database) -> None:
    assert await _recall_at_1(store, with_vectors=True) >= 0.8


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_keyword_search_alone_does_not(store: Database) -> None:
    assert await _recall_at_1(store, with_vectors=False) <= 0.1
