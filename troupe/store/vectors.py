"""Vector similarity in SQL, per dialect. Vectors are stored L2-normalised, so the cosine
similarity of two is their dot product.

SQLite: sqlite-vec's `vec_distance_cosine`, a C loop over float32 blobs, loaded into every
connection; where this SQLite cannot load extensions, the same function is registered in
Python (numpy), slower but giving the same answers. PostgreSQL: pgvector's `<=>` over the
`real[]` column cast to `vector` where the database has the extension, else an exact dot
product in SQL. Both scan every candidate passage: exact, with no approximate index."""

import importlib.util
import logging
import math
import os
import weakref
from array import array
from typing import Any

from sqlalchemy import REAL, ColumnElement, Double, bindparam, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import LargeBinary, UserDefinedType

from troupe.store.tables import PassageRow

log = logging.getLogger("troupe.store")


def normalised(vector: list[float]) -> list[float]:
    """Unit length, at float32 precision: the vector exactly as it is stored."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return array("f", [x / norm for x in vector]).tolist()


def install_sqlite_functions(connection: Any) -> bool:
    """Give a new sqlite3 connection `vec_distance_cosine`; True when sqlite-vec's own."""
    try:
        connection.enable_load_extension(True)
        connection.load_extension(sqlite_vec_path())
        connection.enable_load_extension(False)
        return True
    except Exception as exc:  # not installed, or this SQLite cannot load extensions
        log.debug("sqlite-vec not loaded (%s); vector search runs in Python", exc)
        connection.create_function("vec_distance_cosine", 2, _cosine_distance, deterministic=True)
        return False


def sqlite_vec_path() -> str:
    """sqlite-vec's `loadable_path()`, found without importing the package: its `__init__`
    imports numpy (0.15 s of CPU, 12 MB) for helpers troupe does not use, and this runs at
    every server's first connection. (A test holds it equal to the package's own.)"""
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("sqlite_vec is not installed")
    return os.path.join(spec.submodule_search_locations[0], "vec0")


def _cosine_distance(a: bytes | None, b: bytes | None) -> float | None:
    import numpy as np

    if a is None or b is None or len(a) != len(b):
        return None
    x, y = np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)
    norms = float(np.linalg.norm(x) * np.linalg.norm(y))
    return 1.0 - float(x @ y) / norms if norms else None


class PGVector(UserDefinedType[list[float]]):
    """pgvector's `vector` type, as a cast target: `real[]` casts to it."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "vector"


# Per engine: does its PostgreSQL database have pgvector (`CREATE EXTENSION vector`)?
_pgvector: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


async def search_method(session: AsyncSession) -> str:
    """How this database compares vectors: `sqlite`, `pgvector` or `exact` (PostgreSQL
    without pgvector)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return "sqlite"
    engine = getattr(bind, "engine", bind)
    if engine not in _pgvector:
        found = await session.scalar(
            text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")
        )
        _pgvector[engine] = bool(found)
    return "pgvector" if _pgvector[engine] else "exact"


def similarity(
    method: str, query: list[float], column: Any = PassageRow.embedding
) -> ColumnElement[float]:
    """The cosine similarity of each passage's embedding (`column`: archival passages' by
    default, or files') to `query` (both normalised)."""
    if method == "sqlite":
        blob = bindparam("query_vector", array("f", query).tobytes(), LargeBinary)
        return 1 - func.vec_distance_cosine(column, blob)
    real_array: Any = ARRAY(REAL())
    vector: ColumnElement[list[float]] = bindparam("query_vector", query, type_=real_array)
    if method == "pgvector":
        distance = cast(column, PGVector()).op("<=>", return_type=Double)(cast(vector, PGVector()))
        return 1 - distance
    pairs = func.unnest(column, vector).table_valued("a", "b").render_derived()
    # In double precision: a product of two small reals underflows `real`, an error.
    dot: ColumnElement[float] = func.sum(cast(pairs.c.a, Double) * cast(pairs.c.b, Double))
    return select(dot).select_from(pairs).scalar_subquery()
