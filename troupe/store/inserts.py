"""New rows written with one Core INSERT per table instead of the ORM's unit of work.

On the hot paths (a run per request, a step's messages, a new agent and its blocks) the
unit of work cost more than the inserts themselves, and it sends one INSERT per distinct
set of filled-in columns. Here every column is sent, with its Python-side default applied
first, so rows of one table always share one statement. The objects stay plain (not in
the session): callers keep reading them, and nothing in the transaction loads them back."""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state

from troupe.store.prepared import Prepared
from troupe.store.tables import Base

# A statement and one row's parameters: what a write is made of (see store.shared_writes).
Statement = tuple[Prepared, dict[str, Any]]


@dataclass(frozen=True, eq=False)  # one per class (cached): identity is equality
class _Shape:
    """How rows of one mapped class become INSERT parameters: the INSERT itself (built
    once) and, per column, its attribute and the default to fill in when it is unset."""

    insert: Prepared
    columns: tuple[tuple[str, str, Any], ...]  # (attribute, column, default or None)


@functools.cache
def _shape(cls: type[Base]) -> _Shape:
    mapper = inspect(cls)
    columns = tuple(
        (attr.key, attr.columns[0].key, attr.columns[0].default) for attr in mapper.column_attrs
    )
    return _Shape(Prepared(insert(mapper.local_table)), columns)  # type: ignore[arg-type]


def insert_statements(rows: Sequence[Base]) -> list[Statement]:
    """Each row's INSERT and its parameters, filling each default the row leaves empty
    into the object too."""
    statements = []
    for row in rows:
        shape = _shape(type(row))
        values: dict[str, Any] = {}
        # A new object holds what it was given in its __dict__ (an attribute never set
        # reads as None): read there, not through the ORM's instrumented attributes.
        given = row.__dict__ if instance_state(row).key is None else None
        for attribute, column, default in shape.columns:
            value = given.get(attribute) if given is not None else getattr(row, attribute)
            if value is None and default is not None:
                value = default.arg(None) if default.is_callable else default.arg
                setattr(row, attribute, value)
            values[column] = value
        statements.append((shape.insert, values))
    return statements


async def insert_rows(session: AsyncSession, rows: Sequence[Base]) -> None:
    """INSERT `rows` (new objects of mapped classes): one statement per class, in order of
    first appearance of their classes."""
    await execute_statements(session, insert_statements(rows))


async def execute_statements(session: AsyncSession, statements: Iterable[Statement]) -> None:
    """`statements` in order of first appearance, each once with all its parameters (an
    executemany)."""
    for statement, values_list in _merged(statements):
        await session.execute(statement.statement, values_list)


def execute_statements_now(connection: Connection, statements: Iterable[Statement]) -> None:
    """`execute_statements` on a Core connection (see `Database.write_now`), below
    SQLAlchemy's per-statement execution (see store.prepared): the hot paths' writes."""
    for statement, values_list in _merged(statements):
        statement.execute(connection, values_list)


def _merged(statements: Iterable[Statement]) -> Iterable[tuple[Prepared, list[dict[str, Any]]]]:
    merged: dict[int, tuple[Prepared, list[dict[str, Any]]]] = {}
    for statement, values in statements:
        merged.setdefault(id(statement), (statement, []))[1].append(values)
    return merged.values()
