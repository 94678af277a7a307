"""The in-memory search catching up from the passage log (migration 0019): after any mix of
inserts, deletes, re-embeddings, edits, moves between archives and writes by another engine
(another process), several in one transaction or from two engines at once, what it holds
equals a fresh read of the archive and it ranks exactly as the SQL search, without reading
the archive again. The log stays bounded, and a reader it no longer reaches back for reads
the archive whole. SQLite and PostgreSQL."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from troupe.store import Database, vector_cache, word_index
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passage_change_table import PassageChangeRow
from troupe.store.passages import NewPassage, PassageFilter
from troupe.store.tables import ArchiveRow, PassageRow

DIM = 384
WORDS = ["owner", "boat", "garden", "music", "own", "budget", "travel"]
EVER = datetime(1970, 1, 1, tzinfo=UTC)  # a date filter: the same search, run in SQL
# The whole reads, as the tests' own comparisons make them (not counted as the search's).
READ_VECTORS, INDEX_WORDS = vector_cache._read, word_index._index


def _units(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)  # type: ignore[no-any-return]


def _passages(rng: np.random.Generator, n: int) -> list[NewPassage]:
    # Few words and few distinct times: keyword ties that the id must break.
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 3)))
    return [
        NewPassage(" ".join(rng.choice(WORDS, size=3)), v.tolist(), created_at=at)
        for v in _units(rng, n)
    ]


async def _add(store: Database, archive_id: str, passages: list[NewPassage]) -> list[str]:
    async with store.write() as session:
        rows = await passage_store.insert_passages(
            session, archive_id, passages, agent_id=None, embedding_handle="h"
        )
    return [r.id for r in rows]


async def _archive(store: Database, name: str) -> str:
    async with store.write() as session:
        return (await archive_store.create_archive(session, name=name, embedding_config={})).id


@pytest.fixture
def full_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was read whole: an archive's vectors ("vectors") or words ("words")."""
    reads: list[str] = []

    async def counted_read(*args: Any) -> Any:
        reads.append("vectors")
        return await READ_VECTORS(*args)

    def counted_index(*args: Any) -> Any:
        reads.append("words")
        return INDEX_WORDS(*args)

    monkeypatch.setattr(vector_cache, "_read", counted_read)
    monkeypatch.setattr(word_index, "_index", counted_index)
    return reads


async def _held_as_read_again(store: Database, archive_id: str) -> None:
    """What is held of the archive (after the searches) equals a fresh read of it."""
    async with store.read() as session:
        (version,) = (await vector_cache.archive_versions(session, [archive_id])).values()
        cache = vector_cache.cache_of(session)
        vectors = cache.older((archive_id, "h", DIM))
        words = cache.older((archive_id, "#words", 0))
        fresh_vectors = await READ_VECTORS(session, (archive_id, "h", DIM), version)
        stmt = word_index._columns().where(PassageRow.archive_id == archive_id)
        fresh_words = INDEX_WORDS(version, list((await session.execute(stmt)).all()))
    assert vectors is not None
    assert words is not None
    assert vectors.version == words.version == version

    def live_vectors(held: Any) -> dict[str, bytes]:
        return {pid: held.matrix[row].tobytes() for pid, row in held.rows.live_rows().items()}

    def live_words(held: Any) -> dict[str, set[str]]:
        dead = set(held.rows.dead.tolist())
        found = {
            w: {held.rows.ids[r] for r in p.tolist() if r not in dead}
            for w, p in zip(held.vocabulary, held.postings, strict=True)
        }
        return {w: ids for w, ids in found.items() if ids}

    def times(held: Any) -> dict[str, int]:
        return {pid: int(held.newest_first[row]) for pid, row in held.rows.live_rows().items()}

    assert live_vectors(vectors) == live_vectors(fresh_vectors)
    assert live_words(words) == live_words(fresh_words)
    assert times(words) == times(fresh_words)


async def _ranks_as_sql(store: Database, archives: list[str], queries: np.ndarray) -> None:
    async with store.read() as session:
        for query in queries:
            fast = await passage_store.nearest_ranked(
                session, PassageFilter(archives), query.tolist(), "h", 10
            )
            slow = await passage_store.nearest_ranked(
                session, PassageFilter(archives, start=EVER), query.tolist(), "h", 10
            )
            assert [pid for pid, _ in fast] == [pid for pid, _ in slow]
            assert np.allclose([s for _, s in fast], [s for _, s in slow], atol=1e-5)
        for words in (["own"], ["boat", "own"], ["garden", "music", "travel"], ["zebra"]):
            fast = await passage_store.keyword_ranked(session, PassageFilter(archives), words, 10)
            slow = await passage_store.keyword_ranked(
                session, PassageFilter(archives, start=EVER), words, 10
            )
            assert fast == slow, words


async def test_catching_up_equals_reading_again(store: Database, full_reads: list[str]) -> None:
    rng = np.random.default_rng(7)
    a, b = await _archive(store, "a"), await _archive(store, "b")
    a_ids = await _add(store, a, _passages(rng, 300))
    b_ids = await _add(store, b, _passages(rng, 50))
    queries = _units(rng, 3)
    await _ranks_as_sql(store, [a, b], queries)
    assert sorted(full_reads) == ["vectors", "vectors", "words", "words"]
    other = Database(store.url.render_as_string(hide_password=False))

    async def edit(**changes: Any) -> None:
        async with store.write() as session:
            for pid in list(rng.choice(a_ids, size=2, replace=False)):
                row = await passage_store.get_passage(session, pid)
                await passage_store.update_passage(session, row, **changes)

    async def delete_two() -> None:
        async with store.write() as session:
            for pid in a_ids[:2]:
                await passage_store.delete_passage(session, pid)
        del a_ids[:2]

    async def added_then_deleted() -> None:
        async with store.write() as session:
            (row,) = await passage_store.insert_passages(
                session, a, _passages(rng, 1), agent_id=None, embedding_handle="h"
            )
            await session.flush()
            await passage_store.delete_passage(session, row.id)

    async def moved() -> None:
        async with store.write() as session:
            (await passage_store.get_passage(session, a_ids.pop())).archive_id = b

    async def two_engines_at_once() -> None:
        writes = [_add(db, a, _passages(rng, 3)) for db in (store, other) for _ in range(4)]
        for ids in await asyncio.gather(*writes):
            a_ids.extend(ids)

    steps: list[Any] = [
        lambda: _add(store, a, _passages(rng, 1)),
        lambda: _add(store, a, _passages(rng, 5)),  # five in one transaction
        delete_two,
        lambda: edit(embedding=(_units(rng, 1)[0].tolist(), "h")),  # re-embedded
        lambda: edit(text="owner of a garden boat"),
        lambda: _add(other, a, _passages(rng, 2)),  # another process
        added_then_deleted,
        moved,
        two_engines_at_once,
        lambda: edit(embedding=(_units(rng, 1)[0].tolist(), "another-model")),  # leaves "h"
    ]
    try:
        for step in steps:
            if (added := await step()) is not None:
                a_ids.extend(added)
            await _ranks_as_sql(store, [a, b], queries)
            await _held_as_read_again(store, a)
            await _held_as_read_again(store, b)
        async with store.read() as session:
            versions = await vector_cache.archive_versions(session, [a])
            logged = await session.scalars(
                select(PassageChangeRow.version).where(PassageChangeRow.archive_id == a)
            )
            # Every version of the archive logged once: none skipped or reused, whichever
            # engine wrote, however many at once.
            assert sorted(logged) == list(range(1, versions[a] + 1))
    finally:
        await other.dispose()
    # Caught up every time: nothing read whole after the first searches.
    assert sorted(full_reads) == ["vectors", "vectors", "words", "words"]
    assert b_ids  # b's own passages were searched all along


async def test_the_log_is_pruned_and_a_reader_behind_it_reads_again(
    store: Database, full_reads: list[str]
) -> None:
    rng = np.random.default_rng(11)
    a = await _archive(store, "pruned")
    await _add(store, a, _passages(rng, 5))
    queries = _units(rng, 2)
    await _ranks_as_sql(store, [a], queries)  # held at version 5
    async with store.write() as session:  # as after some 20,000 writes
        await session.execute(update(ArchiveRow).values(vectors_version=19_990))
    await _add(store, a, _passages(rng, 20))  # version 20,000 prunes what is 10,000 older
    async with store.read() as session:
        stmt = select(func.min(PassageChangeRow.version), func.count()).where(
            PassageChangeRow.archive_id == a
        )
        assert tuple((await session.execute(stmt)).one()) == (19_991, 20)
    full_reads.clear()
    await _ranks_as_sql(store, [a], queries)
    assert sorted(full_reads) == ["vectors", "words"]  # the log did not reach back: read again
    await _held_as_read_again(store, a)
