"""What changed in an archive since a version: the log its triggers write (`passage_changes`,
migration 0019), one row per move of `archives.vectors_version`. The in-memory search reads
it to catch up from the version it holds instead of reading the whole archive again."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.passage_change_table import PassageChangeRow
from troupe.store.tables import PassageRow

_CHUNK = 5_000  # ids per statement: under both drivers' limits on bound parameters


async def changed_since(
    session: AsyncSession, archive_id: str, since: int, until: int
) -> list[str] | None:
    """The passages changed after version `since` up to `until`, each once; None when the
    log does not hold every one of those versions (pruned, or moved before the log was)."""
    stmt = select(PassageChangeRow.passage_id).where(
        PassageChangeRow.archive_id == archive_id,
        PassageChangeRow.version > since,
        PassageChangeRow.version <= until,
    )
    ids = list((await session.scalars(stmt)).all())
    if len(ids) != until - since:
        return None
    return list(dict.fromkeys(ids))


async def rows_among(session: AsyncSession, stmt: Select[Any], ids: Sequence[str]) -> list[Any]:
    """The rows `stmt` selects among the passages `ids` (those gone or elsewhere: none)."""
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows.extend((await session.execute(stmt.where(PassageRow.id.in_(chunk)))).all())
    return rows
