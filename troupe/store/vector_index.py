"""sqlite-vec's vector index for archival passages on SQLite: one `vec0` virtual table per
common embedding dimension (`passage_vectors_<dim>`), partitioned by archive, kept in step
with the `passages` table by triggers (insert, update, delete, and the deletes an archive's
deletion cascades to), so no write path can forget it.

A `vec0` table keeps the vectors packed in chunks and answers a k-nearest query in C without
reading the passages' rows: the same answers as the exact scan (it compares every vector of
the archive; nothing is approximated), faster. A search with filters the index does not
hold (tags, dates, words) scans exactly, as do dimensions without an index and a SQLite that
cannot load sqlite-vec (the migration then creates nothing)."""

import weakref
from array import array
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The dimensions of the embedders people use: the embedded model and the small BERTs (384),
# nomic and the base models (768), the large ones (1024), OpenAI's small model (1536).
INDEXED_DIMS = (384, 768, 1024, 1536)
_PREFIX = "passage_vectors_"


def table(dim: int) -> str:
    return f"{_PREFIX}{dim}"


def is_index_table(name: str | None) -> bool:
    """One of the index's tables (sqlite-vec's virtual tables and their shadow tables): not
    declared in the ORM's tables, so schema comparisons leave them out."""
    return bool(name) and str(name).startswith(_PREFIX)


def create_statements(dim: int) -> list[str]:
    """The index of one dimension, its triggers, and what the passages already hold."""
    name = table(dim)
    applies = f"new.embedding IS NOT NULL AND new.embedding_dim = {dim}"
    add = (
        f"INSERT INTO {name}(rowid, archive_id, embedding_handle, embedding) "
        "SELECT new.rowid, new.archive_id, coalesce(new.embedding_handle, ''), new.embedding"
    )
    return [
        f"CREATE VIRTUAL TABLE {name} USING vec0(archive_id text partition key, "
        f"embedding_handle text, embedding float[{dim}] distance_metric=cosine)",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON passages WHEN {applies} BEGIN {add}; END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON passages WHEN old.embedding_dim = {dim} "
        f"BEGIN DELETE FROM {name} WHERE rowid = old.rowid; END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF embedding, embedding_dim, "
        "embedding_handle, archive_id ON passages "
        f"BEGIN DELETE FROM {name} WHERE rowid = old.rowid; {add} WHERE {applies}; END",
        f"INSERT INTO {name}(rowid, archive_id, embedding_handle, embedding) "
        "SELECT rowid, archive_id, coalesce(embedding_handle, ''), embedding FROM passages "
        f"WHERE embedding IS NOT NULL AND embedding_dim = {dim}",
    ]


def drop_statements(dim: int) -> list[str]:
    name = table(dim)
    return [
        *(f"DROP TRIGGER IF EXISTS {name}_{event}" for event in ("insert", "delete", "update")),
        f"DROP TABLE IF EXISTS {name}",
    ]


# Per engine: the dimensions its SQLite database has an index for.
_indexed: "weakref.WeakKeyDictionary[Any, frozenset[int]]" = weakref.WeakKeyDictionary()


async def indexed_dims(session: AsyncSession) -> frozenset[int]:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine not in _indexed:
        names = await session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE :like"),
            {"like": f"{_PREFIX}%"},
        )
        _indexed[engine] = frozenset(
            int(n[len(_PREFIX) :]) for n in names if n[len(_PREFIX) :].isdigit()
        )
    return _indexed[engine]


async def nearest_rowids(
    session: AsyncSession, archive_ids: Sequence[str], query: list[float], handle: str, limit: int
) -> list[tuple[int, float]]:
    """The `limit` passages (by rowid) of these archives embedded by `handle` nearest to
    `query` (normalised), best first, with their cosine similarity; one k-nearest query per
    archive (its partition), merged."""
    stmt = text(
        f"SELECT rowid, distance FROM {table(len(query))} WHERE embedding MATCH :query "
        "AND k = :k AND archive_id = :archive AND embedding_handle = :handle"
    )
    blob = array("f", query).tobytes()
    found: list[tuple[int, float]] = []
    for archive_id in dict.fromkeys(archive_ids):
        params = {"query": blob, "k": limit, "archive": archive_id, "handle": handle}
        found.extend((int(r), 1.0 - float(d)) for r, d in await session.execute(stmt, params))
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:limit]
