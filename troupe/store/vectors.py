"""Vector similarity in SQL, per dialect. Vectors are stored L2-normalised, so the cosine
similarity of two is their dot product.

SQLite: sqlite-vec's `vec_distance_cosine`, a C loop over float32 blobs, loaded into every
connection; where this SQLite cannot load extensions, the same function is registered in
Python (numpy), slower but giving the same answers. PostgreSQL: an exact dot product over
`real[]` in SQL. (pgvector's index is not used yet: see docs/memory.md.)"""

import logging
import math
from array import array
from typing import Any

from sqlalchemy import REAL, ColumnElement, Double, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import LargeBinary

from troupe.store.tables import PassageRow

log = logging.getLogger("troupe.store")


def normalised(vector: list[float]) -> list[float]:
    """Unit length, at float32 precision: the vector exactly as it is stored."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return array("f", [x / norm for x in vector]).tolist()


def install_sqlite_functions(connection: Any) -> bool:
    """Give a new sqlite3 connection `vec_distance_cosine`; True when sqlite-vec's own."""
    try:
        import sqlite_vec

        connection.enable_load_extension(True)
        sqlite_vec.load(connection)
        connection.enable_load_extension(False)
        return True
    except Exception as exc:  # not installed, or this SQLite cannot load extensions
        log.debug("sqlite-vec not loaded (%s); vector search runs in Python", exc)
        connection.create_function("vec_distance_cosine", 2, _cosine_distance, deterministic=True)
        return False


def _cosine_distance(a: bytes | None, b: bytes | None) -> float | None:
    import numpy as np

    if a is None or b is None or len(a) != len(b):
        return None
    x, y = np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)
    norms = float(np.linalg.norm(x) * np.linalg.norm(y))
    return 1.0 - float(x @ y) / norms if norms else None


def similarity(dialect: str, query: list[float]) -> ColumnElement[float]:
    """The cosine similarity of each passage's embedding to `query` (both normalised)."""
    if dialect == "postgresql":
        real_array: Any = ARRAY(REAL())
        vector: ColumnElement[list[float]] = bindparam("query_vector", query, type_=real_array)
        pairs = func.unnest(PassageRow.embedding, vector).table_valued("a", "b").render_derived()
        # In double precision: a product of two small reals underflows `real`, an error.
        dot: ColumnElement[float] = func.sum(cast(pairs.c.a, Double) * cast(pairs.c.b, Double))
        return select(dot).select_from(pairs).scalar_subquery()
    blob = bindparam("query_vector", array("f", query).tobytes(), LargeBinary)
    return 1 - func.vec_distance_cosine(PassageRow.embedding, blob)
