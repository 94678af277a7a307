"""Archival vector search over vectors held in memory: each archive's vectors of one
embedding, as one float32 matrix, read once and kept until the archive's `vectors_version`
moves (triggers move it on every insert, re-embedding and delete, whoever writes; see
migration 0018). A search reads the versions (one indexed statement), multiplies the query
by each matrix and keeps the best: the exact ranking, at numpy's speed, on SQLite and on
PostgreSQL without pgvector alike, instead of a scan that computes every similarity in SQL.

The matrices of one process take at most `MAX_BYTES` (least recently used go first); an
archive larger than that is searched in SQL as before."""

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import LargeBinary, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import ArchiveRow, PassageRow

MAX_BYTES = 512 * 2**20
Key = tuple[str, str, int]  # archive, embedding handle (or what else is held), dimension


class Held(Protocol):
    """What the cache holds of an archive, as of one version of it."""

    @property
    def version(self) -> int: ...
    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class _Vectors:
    version: int
    ids: list[str]
    matrix: Any  # float32, one row per passage

    @property
    def size(self) -> int:
        return int(self.matrix.nbytes)


class VectorCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[Key, Held] = OrderedDict()
        self._bytes = 0

    def get(self, key: Key, version: int) -> Held | None:
        found = self._held.get(key)
        if found is None or found.version != version:
            return None
        self._held.move_to_end(key)
        return found

    def put(self, key: Key, vectors: Held) -> None:
        if (old := self._held.pop(key, None)) is not None:
            self._bytes -= old.size
        if vectors.size > self.max_bytes:
            return
        self._held[key] = vectors
        self._bytes += vectors.size
        while self._bytes > self.max_bytes:
            _, evicted = self._held.popitem(last=False)
            self._bytes -= evicted.size


_caches: "weakref.WeakKeyDictionary[Any, VectorCache]" = weakref.WeakKeyDictionary()


def cache_of(session: AsyncSession) -> VectorCache:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine not in _caches:
        _caches[engine] = VectorCache()
    return _caches[engine]


async def nearest_ids(
    session: AsyncSession,
    archive_ids: Sequence[str],
    query: list[float],
    handle: str,
    limit: int,
    versions: dict[str, int] | None = None,
) -> list[tuple[str, float]] | None:
    """The `limit` passages of these archives embedded by `handle` most similar to `query`
    (normalised), best first (ties by id), with their cosine similarity; None when an
    archive is too large to hold (the caller searches in SQL). `versions`: the archives'
    versions when the caller has just read them (one statement per search, not one per
    half of a hybrid search)."""
    cache, dim = cache_of(session), len(query)
    vector = np.asarray(query, dtype=np.float32)
    found: list[tuple[str, float]] = []
    if versions is None:
        versions = await archive_versions(session, archive_ids)
    for archive_id, version in versions.items():
        key = (archive_id, handle, dim)
        held = cache.get(key, version)
        if not isinstance(held, _Vectors):
            if await _count(session, key) * dim * 4 > cache.max_bytes:
                return None  # too large to hold: searched in SQL
            held = await _read(session, key, version)
            cache.put(key, held)
        if not held.ids:
            continue
        scores = held.matrix @ vector
        k = min(limit, len(held.ids))
        # The k largest, without negating (a copy of) every score first.
        best = np.argpartition(scores, len(scores) - k)[len(scores) - k :]
        found.extend(zip([held.ids[i] for i in best.tolist()], scores[best].tolist(), strict=True))
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found[:limit]


async def archive_versions(session: AsyncSession, archive_ids: Sequence[str]) -> dict[str, int]:
    """Each archive's version. Read before what is cached of it: what is read after is at
    least as new, never older."""
    stmt = select(ArchiveRow.id, ArchiveRow.vectors_version).where(
        ArchiveRow.id.in_(list(dict.fromkeys(archive_ids)))
    )
    return {str(a): int(v) for a, v in (await session.execute(stmt)).all()}


def _of(key: Key) -> list[Any]:
    archive_id, handle, dim = key
    return [
        PassageRow.archive_id == archive_id,
        PassageRow.embedding_handle == handle,
        PassageRow.embedding_dim == dim,
    ]


async def _count(session: AsyncSession, key: Key) -> int:
    stmt = select(func.count()).select_from(PassageRow).where(*_of(key))
    return int(await session.scalar(stmt) or 0)


async def _read(session: AsyncSession, key: Key, version: int) -> _Vectors:
    dim = key[2]
    sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite's float32 blobs are read as bytes, not converted to Python floats one by one.
    column: Any = type_coerce(PassageRow.embedding, LargeBinary) if sqlite else PassageRow.embedding
    stmt = select(PassageRow.id, column).where(*_of(key))
    rows = (await session.execute(stmt.order_by(PassageRow.id))).all()
    ids = [str(r[0]) for r in rows]
    if not rows:
        return _Vectors(version, [], np.zeros((0, dim), dtype=np.float32))
    if sqlite:
        matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=np.float32)
    else:
        matrix = np.asarray([r[1] for r in rows], dtype=np.float32)
    return _Vectors(version, ids, matrix.reshape(len(ids), dim))
