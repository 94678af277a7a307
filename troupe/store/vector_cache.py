"""Archival vector search over vectors held in memory: each archive's vectors of one
embedding, as one float32 matrix, read once and kept until the archive's `vectors_version`
moves (triggers move it on every insert, re-embedding and delete, whoever writes; see
migrations 0018 and 0019). A search reads the versions (one indexed statement), multiplies
the query by each matrix and keeps the best: the exact ranking, at numpy's speed, on SQLite
and on PostgreSQL without pgvector alike, instead of a scan that computes every similarity
in SQL. When the version has moved, what is held catches up from the triggers' log of the
passages changed since (store.passage_changes): only those are read again.

The matrices of one process take at most `MAX_BYTES` (least recently used go first); an
archive larger than that is searched in SQL as before."""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
from sqlalchemy import LargeBinary, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.held_rows import Rows
from troupe.store.passage_changes import changed_since, rows_among
from troupe.store.tables import ArchiveRow, PassageRow

MAX_BYTES = 512 * 2**20
Key = tuple[str, str, int]  # archive, embedding handle (or what else is held), dimension


class Held(Protocol):
    """What the cache holds of an archive, as of one version of it."""

    @property
    def version(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def rows(self) -> Rows: ...


class _Buffer:
    """The rows of one matrix, shared by held values made one from another: each reads its
    first `count` rows, which are never written again; a new value appends after them when
    no other did (else it copies)."""

    def __init__(self, matrix: Any, used: int) -> None:
        self.matrix, self.used = matrix, used
        self._lock = threading.Lock()

    def appended(self, count: int, new: Any) -> "_Buffer":
        if not len(new):
            return self  # passages deleted (or leaving this embedding) alone: no row written
        with self._lock:
            if self.used == count and count + len(new) <= len(self.matrix):
                self.matrix[count : count + len(new)] = new
                self.used = count + len(new)
                return self
        return _Buffer.holding(self.matrix[:count], new)

    @staticmethod
    def holding(*parts: Any) -> "_Buffer":
        """A new buffer with these rows, one part after another, and room for more."""
        used = sum(len(p) for p in parts)
        matrix = np.empty((used + used // 8 + 256, parts[0].shape[1]), dtype=np.float32)
        start = 0
        for part in parts:
            matrix[start : start + len(part)] = part
            start += len(part)
        return _Buffer(matrix, used)


@dataclass(frozen=True)
class _Vectors:
    version: int
    rows: Rows
    buffer: _Buffer
    count: int  # rows of the buffer this value reads

    @property
    def size(self) -> int:
        return int(self.buffer.matrix.nbytes)

    @property
    def matrix(self) -> Any:
        """One row per row of `rows`, float32."""
        return self.buffer.matrix[: self.count]


H = TypeVar("H", bound=Held)


class VectorCache:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[Key, Held] = OrderedDict()
        self._bytes = 0

    def get(self, key: Key, version: int) -> Held | None:
        """What is held of `key` as of `version` or later (a search that read the version
        just before a write may answer from after it, never from before)."""
        found = self._held.get(key)
        if found is None or found.version < version:
            return None
        self._held.move_to_end(key)
        return found

    def older(self, key: Key) -> Held | None:
        """What is held of `key`, whatever its version: to catch up from."""
        return self._held.get(key)

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
    dim = len(query)
    vector = np.asarray(query, dtype=np.float32)
    found: list[tuple[str, float]] = []
    if versions is None:
        versions = await archive_versions(session, archive_ids)
    for archive_id, version in versions.items():
        held = await _current(session, (archive_id, handle, dim), version)
        if held is None:
            return None  # too large to hold: searched in SQL
        found.extend(_best(held, vector, limit))
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found[:limit]


def _best(held: _Vectors, vector: Any, limit: int) -> list[tuple[str, float]]:
    """The archive's `limit` best, with every passage tied with the last of them (the id
    decides among those, as in SQL, whatever order the rows are in)."""
    k = min(limit, held.rows.live)
    if k == 0:
        return []
    scores = held.matrix @ vector
    scores[held.rows.dead] = -np.inf
    # The k largest, without negating (a copy of) every score first.
    kth = scores[np.argpartition(scores, len(scores) - k)[len(scores) - k]]
    best = np.flatnonzero(scores >= kth)
    ids = held.rows.ids
    return list(zip([ids[i] for i in best.tolist()], scores[best].tolist(), strict=True))


async def _current(session: AsyncSession, key: Key, version: int) -> _Vectors | None:
    """The archive's vectors as of `version` or later; None when too large to hold."""

    async def read_all() -> _Vectors | None:
        if await _count(session, key) * key[2] * 4 > cache_of(session).max_bytes:
            return None
        return await _read(session, key, version)

    return await current(session, key, version, _Vectors, _changed, read_all)


async def current(
    session: AsyncSession,
    key: Key,
    version: int,
    kind: type[H],
    apply: Callable[[AsyncSession, Key, H, list[str], int], Awaitable[H | None]],
    read_all: Callable[[], Awaitable[H | None]],
) -> H | None:
    """What is held of `key` as of `version` or later: held already; else what was held,
    brought to `version` by `apply` on the passages changed since (read from the log); else
    (the log does not reach back far enough, many passages changed, or nothing was held)
    `read_all`, which may answer None (not to be held)."""
    cache = cache_of(session)
    if isinstance(found := cache.get(key, version), kind):
        return found
    held = None
    if isinstance(older := cache.older(key), kind):
        changed = await changed_since(session, key[0], older.version, version)
        if changed is not None and len(changed) <= max(1_000, older.rows.live // 10):
            held = await apply(session, key, older, changed, version)
    if held is None and (held := await read_all()) is None:
        return None
    cache.put(key, held)
    return held


async def _changed(
    session: AsyncSession, key: Key, older: _Vectors, changed: list[str], version: int
) -> _Vectors | None:
    """`older` with the vectors of `changed` as they are now."""
    stmt = select(PassageRow.id, _vector_column(session)).where(*_of(key))
    found = await rows_among(session, stmt, changed)
    rows = older.rows.replaced(changed, [str(r[0]) for r in found])
    if rows.too_sparse():
        return None
    new = _matrix(session, found, key[2])
    return _Vectors(version, rows, older.buffer.appended(older.count, new), rows.count)


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


def _vector_column(session: AsyncSession) -> Any:
    # SQLite's float32 blobs are read as bytes, not converted to Python floats one by one.
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(PassageRow.embedding, LargeBinary)
    return PassageRow.embedding


def _matrix(session: AsyncSession, rows: Sequence[Any], dim: int) -> Any:
    """The vectors of rows (id, vector) as read by `_vector_column`, one per row."""
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    if session.get_bind().dialect.name == "sqlite":
        matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=np.float32)
    else:
        matrix = np.asarray([r[1] for r in rows], dtype=np.float32)
    return matrix.reshape(len(rows), dim)


async def _read(session: AsyncSession, key: Key, version: int) -> _Vectors:
    stmt = select(PassageRow.id, _vector_column(session)).where(*_of(key))
    rows = (await session.execute(stmt.order_by(PassageRow.id))).all()
    buffer = _Buffer.holding(_matrix(session, rows, key[2]))
    return _Vectors(version, Rows.of([str(r[0]) for r in rows]), buffer, len(rows))
