"""New rows written with one Core INSERT per table instead of the ORM's unit of work.

On the hot paths (a run per request, a step's messages, a new agent and its blocks) the
unit of work cost more than the inserts themselves, and it sends one INSERT per distinct
set of filled-in columns. Here every column is sent, with its Python-side default applied
first, so rows of one table always share one statement. The objects stay plain (not in
the session): callers keep reading them, and nothing in the transaction loads them back."""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Executable, Insert, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import Base


@dataclass(frozen=True, eq=False)  # one per class (cached): identity is equality
class _Shape:
    """How rows of one mapped class become INSERT parameters: the INSERT itself (built
    once) and, per column, its attribute and the default to fill in when it is unset."""

    insert: Insert
    columns: tuple[tuple[str, str, Any], ...]  # (attribute, column, default or None)


@functools.cache
def _shape(cls: type[Base]) -> _Shape:
    mapper = inspect(cls)
    columns = tuple(
        (attr.key, attr.columns[0].key, attr.columns[0].default) for attr in mapper.column_attrs
    )
    return _Shape(insert(mapper.local_table), columns)  # type: ignore[arg-type]


def insert_statements(rows: Sequence[Base]) -> list[tuple[Insert, dict[str, Any]]]:
    """Each row's INSERT and its parameters, filling each default the row leaves empty
    into the object too."""
    statements = []
    for row in rows:
        shape = _shape(type(row))
        values: dict[str, Any] = {}
        for attribute, column, default in shape.columns:
            value = getattr(row, attribute)
            if value is None and default is not None:
                value = default.arg(None) if default.is_callable else default.arg
                setattr(row, attribute, value)
            values[column] = value
        statements.append((shape.insert, values))
    return statements


async def insert_rows(session: AsyncSession, rows: Sequence[Base]) -> None:
    """INSERT `rows` (new objects of mapped classes): one statement per class, in order of
    first appearance of their classes."""
    for insert_, values_list in merge_statements(insert_statements(rows)):
        await session.execute(insert_, values_list)


S = TypeVar("S", bound=Executable)


def merge_statements(
    statements: Iterable[tuple[S, dict[str, Any]]],
) -> list[tuple[S, list[dict[str, Any]]]]:
    """The same statement's parameters together (an executemany each), in order of each
    statement's first appearance."""
    merged: dict[int, tuple[S, list[dict[str, Any]]]] = {}
    for statement, values in statements:
        merged.setdefault(id(statement), (statement, []))[1].append(values)
    return list(merged.values())
