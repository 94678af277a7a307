"""The vector index of archival passages (troupe.store.vector_index: sqlite-vec's `vec0` on
SQLite): its answers are the exact search's (recall against a brute-force ranking in numpy),
and its triggers keep it in step with every write: inserts, a new embedding, deletes, an
archive's deletion. On PostgreSQL the same checks hold for its own search."""

import numpy as np
from sqlalchemy import text

from troupe.store import Database
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter
from troupe.store.vector_index import indexed_dims, table

DIM = 384


def _units(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)  # type: ignore[no-any-return]


async def _archive(store: Database, name: str, vectors: np.ndarray, handle: str) -> list[str]:
    async with store.write() as session:
        archive = await archive_store.create_archive(session, name=name, embedding_config={})
        rows = await passage_store.insert_passages(
            session,
            archive.id,
            [NewPassage(f"{name} {i}", v.tolist()) for i, v in enumerate(vectors)],
            agent_id=None,
            embedding_handle=handle,
        )
    return [archive.id, *(r.id for r in rows)]


async def _nearest(store: Database, archives: list[str], query: np.ndarray) -> list[str]:
    async with store.read() as session:
        found = await passage_store.nearest(
            session, PassageFilter(archives), query.tolist(), "h", 10
        )
    return [row.id for row, _ in found]


async def test_the_index_answers_as_the_exact_search_and_follows_every_write(
    store: Database,
) -> None:
    rng = np.random.default_rng(3)
    first, second, other = _units(rng, 600), _units(rng, 400), _units(rng, 100)
    a, *a_ids = await _archive(store, "a", first, "h")
    b, *b_ids = await _archive(store, "b", second, "h")
    await _archive(store, "c", other, "other-model")  # another model: never compared
    if store.is_sqlite:
        async with store.read() as session:
            indexed = await session.scalar(text(f"SELECT count(*) FROM {table(DIM)}"))
            assert DIM in await indexed_dims(session)  # searches go through the index
        assert indexed == 1100

    ids, matrix = np.array(a_ids + b_ids), np.vstack([first, second]).astype(np.float64)
    queries = _units(rng, 20)
    hits = 0
    for query in queries:
        want = list(ids[np.argsort(-(matrix @ query))[:10]])
        got = await _nearest(store, [a, b], query)
        hits += len(set(got) & set(want))
        assert got[0] == want[0]
    assert hits / (10 * len(queries)) == 1.0  # recall@10 against the exact ranking

    # A new embedding moves the passage; deletes and an archive's deletion leave the index.
    query = queries[0]
    async with store.write() as session:
        row = await passage_store.get_passage(session, a_ids[0])
        await passage_store.update_passage(session, row, embedding=(query.tolist(), "h"))
    assert (await _nearest(store, [a, b], query))[0] == a_ids[0]
    async with store.write() as session:
        await passage_store.delete_passage(session, a_ids[0])
    assert a_ids[0] not in await _nearest(store, [a, b], query)
    async with store.write() as session:
        await archive_store.delete_archive(session, a)
    assert set(await _nearest(store, [a, b], query)) <= set(b_ids)
    if store.is_sqlite:
        async with store.read() as session:
            indexed = await session.scalar(text(f"SELECT count(*) FROM {table(DIM)}"))
        assert indexed == 500
