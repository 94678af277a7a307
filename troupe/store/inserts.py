"""New rows written with one Core INSERT per table instead of the ORM's unit of work.

On the hot paths (a run per request, a step's messages, a new agent and its blocks) the
unit of work cost more than the inserts themselves, and it sends one INSERT per distinct
set of filled-in columns. Here every column is sent, with its Python-side default applied
first, so rows of one table always share one statement. The objects stay plain (not in
the session): callers keep reading them, and nothing in the transaction loads them back."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import Base


async def insert_rows(session: AsyncSession, rows: Sequence[Base]) -> None:
    """INSERT `rows` (new objects of mapped classes) in order of first appearance of their
    tables, filling each default the row leaves empty into the object too."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for row in rows:
        mapper = inspect(type(row))
        values: dict[str, Any] = {}
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            value = getattr(row, attr.key)
            if value is None and column.default is not None:
                default: Any = column.default
                value = default.arg(None) if default.is_callable else default.arg
                setattr(row, attr.key, value)
            values[column.key] = value
        by_table.setdefault(mapper.local_table, []).append(values)  # type: ignore[arg-type]
    for table, values_list in by_table.items():
        await session.execute(insert(table), values_list)
