"""Archival vector search over in-memory vectors (troupe.store.vector_cache): its answers are
the exact ranking's (recall against a brute-force ranking in numpy), and every write moves
the archive's version so no search answers from old vectors: inserts, a new embedding,
deletes, an archive's deletion, and writes by another engine (another process) on the same
database. SQLite and PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

import numpy as np

from troupe.store import Database
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter

DIM = 384


def _units(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)  # type: ignore[no-any-return]


async def _add(store: Database, archive_id: str, vectors: np.ndarray, handle: str) -> list[str]:
    async with store.write() as session:
        rows = await passage_store.insert_passages(
            session,
            archive_id,
            [NewPassage(f"p {i}", v.tolist()) for i, v in enumerate(vectors)],
            agent_id=None,
            embedding_handle=handle,
        )
    return [r.id for r in rows]


async def _archive(store: Database, name: str) -> str:
    async with store.write() as session:
        archive = await archive_store.create_archive(session, name=name, embedding_config={})
    return archive.id


async def _nearest(store: Database, archives: list[str], query: np.ndarray) -> list[str]:
    async with store.read() as session:
        found = await passage_store.nearest(
            session, PassageFilter(archives), query.tolist(), "h", 10
        )
    return [row.id for row, _ in found]


async def test_searches_answer_as_the_exact_ranking_and_follow_every_write(
    store: Database,
) -> None:
    rng = np.random.default_rng(3)
    a, b, c = [await _archive(store, name) for name in "abc"]
    first, second = _units(rng, 600), _units(rng, 400)
    a_ids, b_ids = await _add(store, a, first, "h"), await _add(store, b, second, "h")
    await _add(store, c, _units(rng, 100), "other-model")  # another model: never compared
    await _add(store, a, _units(rng, 50), "other-model")

    ids, matrix = np.array(a_ids + b_ids), np.vstack([first, second]).astype(np.float64)
    queries = _units(rng, 20)
    hits = 0
    for query in queries:
        want = list(ids[np.argsort(-(matrix @ query))[:10]])
        got = await _nearest(store, [a, b, c], query)
        hits += len(set(got) & set(want))
        assert got[0] == want[0]
    assert hits / (10 * len(queries)) == 1.0  # recall@10 against the exact ranking

    query = queries[0]
    async with store.write() as session:  # a new embedding moves the passage
        row = await passage_store.get_passage(session, a_ids[1])
        await passage_store.update_passage(session, row, embedding=(query.tolist(), "h"))
    assert (await _nearest(store, [a, b], query))[0] == a_ids[1]
    async with store.write() as session:
        await passage_store.delete_passage(session, a_ids[1])
    assert a_ids[1] not in await _nearest(store, [a, b], query)

    # Another engine on the same database (another process): what it writes is seen at once.
    other = Database(store.url.render_as_string(hide_password=False))
    try:
        (added,) = await _add(other, b, query[None, :], "h")
        assert (await _nearest(store, [a, b], query))[0] == added
        async with other.write() as session:
            await archive_store.delete_archive(session, a)
        assert set(await _nearest(store, [a, b], query)) <= {added, *b_ids}
    finally:
        await other.dispose()


async def test_keyword_matches_in_memory_answer_as_the_sql_match(store: Database) -> None:
    texts = [
        "The owner of the boat",
        "downtown traffic at noon",
        "Own goals and owners",
        "a boat, a Boat and BOATS",
        "nothing here",
        "owner\tafter a tab",
    ]
    a = await _archive(store, "words")
    async with store.write() as session:
        rows = await passage_store.insert_passages(
            session,
            a,
            [NewPassage(t, None) for t in texts * 3],
            agent_id=None,
            embedding_handle=None,
        )
    in_memory, in_sql = (
        PassageFilter([a]),
        PassageFilter([a], start=datetime(1970, 1, 1, tzinfo=UTC)),
    )

    async def both(words: list[str]) -> tuple[list[Any], list[Any]]:
        async with store.read() as session:
            fast = await passage_store.keyword_matches(session, in_memory, words, 10)
            slow = await passage_store.keyword_matches(session, in_sql, words, 10)
        return [(r.id, s) for r, s in fast], [(r.id, s) for r, s in slow]

    for words in (["own"], ["boat", "own"], ["downtown"], ["tab", "after"], ["zebra"]):
        fast, slow = await both(words)
        assert fast == slow, words
    # Over two archives, each cut to its best `limit` before they are merged: the same top
    # 10 as the SQL ranks over both at once; one shared time, so ties are broken by id.
    b = await _archive(store, "more words")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    async with store.write() as session:
        await passage_store.insert_passages(
            session,
            b,
            [NewPassage(t, None, created_at=at) for t in texts * 4],
            agent_id=None,
            embedding_handle=None,
        )
    for words in (["own"], ["boat", "own"], ["boat"]):
        async with store.read() as session:
            fast_ab = await passage_store.keyword_matches(session, PassageFilter([b, a]), words, 10)
            slow_ab = await passage_store.keyword_matches(
                session, PassageFilter([a, b], start=datetime(1970, 1, 1, tzinfo=UTC)), words, 10
            )
        assert [(r.id, s) for r, s in fast_ab] == [(r.id, s) for r, s in slow_ab], words
    fast, _ = await both(["own"])
    assert {r.text for r in rows if r.id in {pid for pid, _ in fast}} == {
        "The owner of the boat",
        "Own goals and owners",
        "owner\tafter a tab",
    }
    async with store.write() as session:  # an edit is seen at once
        edited = await passage_store.get_passage(session, rows[4].id)
        await passage_store.update_passage(session, edited, text="an owner at last")
    fast, slow = await both(["last"])
    assert fast == slow == [(rows[4].id, 1.0)]
