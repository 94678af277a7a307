"""Reading one row by its id, or saying clearly that there is none."""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.store.tables import Base

RowT = TypeVar("RowT", bound=Base)


async def row_or_not_found(
    session: AsyncSession, cls: type[RowT], row_id: str, noun: str, *, fresh: bool = False
) -> RowT:
    """The row; `fresh`: read again even if this session holds it already."""
    row = await session.get(cls, row_id, populate_existing=fresh)
    if row is None:
        raise NotFound(f"{noun} {row_id!r} not found")
    return row
