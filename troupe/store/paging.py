"""The one cursor pager behind every list route.

A list is ordered by its own keys: (created_at, id) for most, the sequence number for
messages, the attachment position for what is attached to an agent, the tag itself for
tags. A cursor (`after`, `before`) is an item of the list, by id (a tag by itself); its
keys are looked up in the query, so a cursor stays valid while items are added.

`after` pages on in the order asked for; `before` alone gives the page nearest to it (read
backwards, then turned around), as does `from_end` with no cursor: the last `limit` items
of the list, which an agent's history shows when no order is asked for.

A cursor that names nothing (never an item, or deleted since) is a 404, as Letta's lists
answered: an empty page would read as the end of the list and hide what follows it. A list
whose cursors are values of its own (tags) takes any value."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from troupe.errors import NotFound

Order = Literal["asc", "desc"]
T = TypeVar("T")
Key = ColumnElement[Any] | QueryableAttribute[Any]  # a column, of a table or a mapped class


@dataclass(frozen=True)
class Page:
    limit: int = 50
    after: str | None = None
    before: str | None = None
    order: Order = "desc"
    from_end: bool = False

    @property
    def backwards(self) -> bool:
        """Read from the far end: the page nearest `before`, or the end of the list."""
        return self.after is None and (self.before is not None or self.from_end)


@dataclass(frozen=True)
class Ordering:
    """How one list is ordered: its key columns (together unique within the list) and, for a
    cursor, the same keys' values as SQL expressions."""

    keys: Sequence[Key]
    cursor_keys: Callable[[str], Sequence[Any]]


def by_creation(model: Any) -> Ordering:
    """(created_at, id) of a mapped class with both columns."""

    def cursor_keys(cursor: str) -> Sequence[Any]:
        created = select(model.created_at).where(model.id == cursor).scalar_subquery()
        return (created, cursor)

    return Ordering((model.created_at, model.id), cursor_keys)


def by_own_value(column: Key) -> Ordering:
    """A list of distinct values of one column (tags): the cursor is the value itself."""
    return Ordering((column,), lambda cursor: (literal(cursor),))


def by_position(position: Key, item: Key, *links: ColumnElement[bool]) -> Ordering:
    """Attachment order: a link table's `position`, the linked `item` id breaking ties; a
    cursor is a linked id, found among the links that `links` select (one agent's)."""

    def cursor_keys(cursor: str) -> Sequence[Any]:
        return (select(position).where(*links, item == cursor).scalar_subquery(), cursor)

    return Ordering((position, item), cursor_keys)


async def fetch_page(
    session: AsyncSession, stmt: Select[T], ordering: Ordering, page: Page
) -> list[T]:
    """The page of `stmt`'s rows (one entity or column each) that `page` asks for."""
    for cursor in (page.after, page.before):
        if cursor is not None:
            await _check_cursor(session, ordering, cursor)
    descending = page.order == "desc"
    if page.after is not None:
        stmt = stmt.where(_beyond(ordering, page.after, greater=not descending))
    if page.before is not None:
        stmt = stmt.where(_beyond(ordering, page.before, greater=descending))
    read_descending = descending != page.backwards
    stmt = stmt.order_by(*(k.desc() if read_descending else k.asc() for k in ordering.keys))
    rows = list((await session.execute(stmt.limit(page.limit))).scalars())
    return rows[::-1] if page.backwards else rows


async def _check_cursor(session: AsyncSession, ordering: Ordering, cursor: str) -> None:
    """The cursor's first key is found (null: no such item), or a 404."""
    if (await session.execute(select(ordering.cursor_keys(cursor)[0]))).scalar() is None:
        raise NotFound(
            f"no item {cursor!r} in this list to page from: it does not exist or was "
            "deleted; page from an id of the list, or start again without after/before"
        )


def _beyond(ordering: Ordering, cursor: str, *, greater: bool) -> ColumnElement[bool]:
    """Items whose keys come after (`greater`) or before the cursor's, compared in turn."""
    pairs = list(zip(ordering.keys, ordering.cursor_keys(cursor), strict=True))
    key, value = pairs[-1]
    condition: ColumnElement[bool] = key > value if greater else key < value
    for key, value in reversed(pairs[:-1]):
        strictly = key > value if greater else key < value
        condition = or_(strictly, and_(key == value, condition))
    return condition
