"""Vector search in the store: sqlite-vec on SQLite, pgvector where PostgreSQL has it, an
exact search in SQL where it does not; each agrees with a brute-force ranking in numpy, and
passages of another embedding or dimension are never compared."""

import random
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from troupe.store import Database, vectors
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter


def _unit(rng: random.Random, dim: int) -> list[float]:
    v = np.array([rng.gauss(0, 1) for _ in range(dim)], dtype=np.float32)
    return (v / np.linalg.norm(v)).tolist()  # type: ignore[no-any-return]


async def _filled(store: Database, rng: random.Random) -> tuple[str, list[Any]]:
    async with store.write() as session:
        archive = await archive_store.create_archive(session, name="v", embedding_config={})
        rows = await passage_store.insert_passages(
            session,
            archive.id,
            [NewPassage(f"p{i}", _unit(rng, 16)) for i in range(200)],
            agent_id=None,
            embedding_handle="h",
        )
        # Another model's vectors, and the same model's of another length: never compared.
        await passage_store.insert_passages(
            session,
            archive.id,
            [NewPassage("other", _unit(rng, 16))],
            agent_id=None,
            embedding_handle="other-model",
        )
        await passage_store.insert_passages(
            session,
            archive.id,
            [NewPassage("short", _unit(rng, 8))],
            agent_id=None,
            embedding_handle="h",
        )
    return archive.id, rows


async def test_nearest_agrees_with_brute_force(store: Database) -> None:
    rng = random.Random(7)
    archive_id, rows = await _filled(store, rng)
    matrix = np.array([r.embedding for r in rows], dtype=np.float64)
    for _ in range(5):
        query = _unit(rng, 16)
        want = [rows[i].id for i in np.argsort(-(matrix @ np.array(query)))[:10]]
        async with store.read() as session:
            got = await passage_store.nearest(session, PassageFilter([archive_id]), query, "h", 10)
        assert [r.id for r, _ in got] == want
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True)
        assert abs(scores[0] - float(np.max(matrix @ np.array(query)))) < 1e-4


async def test_the_search_method_of_each_backend(store: Database) -> None:
    async with store.read() as session:
        method = await vectors.search_method(session)
        if session.get_bind().dialect.name == "sqlite":
            assert method == "sqlite"
            version = await session.scalar(text("SELECT vec_version()"))
            assert str(version).startswith("v")  # sqlite-vec itself, not the Python stand-in
        else:
            assert method in {"pgvector", "exact"}


def test_sqlite_vec_is_found_where_the_package_puts_it() -> None:
    import sqlite_vec

    assert vectors.sqlite_vec_path() == sqlite_vec.loadable_path()


def test_the_python_stand_in_matches_sqlite_vec() -> None:
    from troupe.store.sqlite_inline import driver

    conn = driver.connect(":memory:")
    assert vectors.install_sqlite_functions(conn)
    rng = random.Random(3)
    a, b = np.array(_unit(rng, 32), dtype=np.float32), np.array(_unit(rng, 32), dtype=np.float32)
    native = conn.execute("SELECT vec_distance_cosine(?, ?)", (a.tobytes(), b.tobytes())).fetchone()
    assert abs(native[0] - vectors._cosine_distance(a.tobytes(), b.tobytes())) < 1e-5


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
async def test_pgvector_ranks_as_the_exact_search(store: Database) -> None:
    async with store.read() as session:
        installed = await vectors.search_method(session) == "pgvector"
    if not installed:
        pytest.skip("pgvector is not installed on this PostgreSQL; the exact search runs instead")
    rng = random.Random(11)
    archive_id, _ = await _filled(store, rng)
    query = _unit(rng, 16)
    async with store.read() as session:
        with_pgvector = await passage_store.nearest(
            session, PassageFilter([archive_id]), query, "h", 10
        )
        engine = session.get_bind().engine  # type: ignore[union-attr]
        vectors._pgvector[engine] = False
        exact = await passage_store.nearest(session, PassageFilter([archive_id]), query, "h", 10)
        vectors._pgvector[engine] = True
    assert [r.id for r, _ in with_pgvector] == [r.id for r, _ in exact]
