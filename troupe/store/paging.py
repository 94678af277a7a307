"""Cursor paging shared by every list route: `after` / `before` are ids, order is by
creation time with the id as tie-break, so a cursor stays valid while rows are added."""

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, and_, or_, select

Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class Page:
    limit: int = 50
    after: str | None = None
    before: str | None = None
    order: Order = "desc"


def paginate(stmt: Select[Any], model: Any, page: Page) -> tuple[Select[Any], bool]:
    """Apply cursors, order and limit (`model`: a mapped class with `id` and `created_at`).
    Returns the statement and whether its rows come back reversed (paging backwards with
    `before`), in which case the caller reverses them."""
    descending = page.order == "desc"
    if page.after:
        stmt = stmt.where(_beyond(model, page.after, forward=not descending))
    if page.before:
        stmt = stmt.where(_beyond(model, page.before, forward=descending))
    backwards = bool(page.before) and not page.after
    newest_first = descending != backwards
    keys = (model.created_at, model.id)
    stmt = stmt.order_by(*(k.desc() if newest_first else k.asc() for k in keys))
    return stmt.limit(page.limit), backwards


def _beyond(model: Any, cursor: str, *, forward: bool) -> Any:
    created = select(model.created_at).where(model.id == cursor).scalar_subquery()
    if forward:
        return or_(model.created_at > created, and_(model.created_at == created, model.id > cursor))
    return or_(model.created_at < created, and_(model.created_at == created, model.id < cursor))
