"""Archival passages: stored with their embedding and tags, found by vector similarity
(store/vectors.py) or keyword; the ranking that combines the two is the caller's."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store.lookup import row_or_not_found
from troupe.store.messages import escape_like
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import PassageRow, PassageTagRow
from troupe.store.vectors import normalised, search_method, similarity

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class NewPassage:
    text: str
    embedding: list[float] | None = None
    tags: Sequence[str] = ()
    metadata: dict[str, Any] | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class PassageFilter:
    """Which passages a search looks at."""

    archive_ids: Sequence[str]
    tags: Sequence[str] = ()
    match_all_tags: bool = False
    start: datetime | None = None
    end: datetime | None = None
    words: Sequence[str] = field(default=())  # for listing: passages containing any


async def insert_passages(
    session: AsyncSession,
    archive_id: str,
    passages: Sequence[NewPassage],
    *,
    agent_id: str | None,
    embedding_handle: str | None,
) -> list[PassageRow]:
    rows = []
    for passage in passages:
        vector = normalised(passage.embedding) if passage.embedding is not None else None
        row = PassageRow(
            id=new_id("passage"),
            archive_id=archive_id,
            agent_id=agent_id,
            text=passage.text,
            tags=list(dict.fromkeys(passage.tags)),
            metadata_=passage.metadata,
            embedding=vector,
            embedding_handle=embedding_handle if vector is not None else None,
            embedding_dim=len(vector) if vector is not None else None,
        )
        if passage.created_at is not None:
            row.created_at = row.updated_at = passage.created_at
        rows.append(row)
    session.add_all(rows)
    session.add_all(PassageTagRow(passage_id=r.id, tag=t) for r in rows for t in r.tags)
    await session.flush()
    return rows


async def get_passage(session: AsyncSession, passage_id: str) -> PassageRow:
    return await row_or_not_found(session, PassageRow, passage_id, "passage")


async def delete_passage(session: AsyncSession, passage_id: str) -> None:
    await session.delete(await get_passage(session, passage_id))


async def update_passage(
    session: AsyncSession,
    row: PassageRow,
    *,
    text: str | None = None,
    tags: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    embedding: tuple[list[float], str] | None = None,
) -> None:
    """Change what is given; `embedding`: a new vector and the handle that made it."""
    if text is not None:
        row.text = text
    if metadata is not None:
        row.metadata_ = metadata
    if embedding is not None:
        vector, handle = embedding
        row.embedding, row.embedding_handle = normalised(vector), handle
        row.embedding_dim = len(vector)
    if tags is not None:
        row.tags = list(dict.fromkeys(tags))
        await session.execute(delete(PassageTagRow).where(PassageTagRow.passage_id == row.id))
        session.add_all(PassageTagRow(passage_id=row.id, tag=t) for t in row.tags)
    await session.flush()


async def list_passages(
    session: AsyncSession, where: PassageFilter, page: Page
) -> list[PassageRow]:
    return await fetch_page(
        session, _filtered(select(PassageRow), where), by_creation(PassageRow), page
    )


async def nearest(
    session: AsyncSession, where: PassageFilter, query: list[float], handle: str, limit: int
) -> list[tuple[PassageRow, float]]:
    """The passages embedded by `handle` most similar to `query`, best first, with their
    cosine similarity. Passages of another embedding are never compared."""
    return await rows_of(session, await nearest_ranked(session, where, query, handle, limit))


async def nearest_ranked(
    session: AsyncSession,
    where: PassageFilter,
    query: list[float],
    handle: str,
    limit: int,
    versions: dict[str, int] | None = None,
) -> list[tuple[str, float]]:
    """`nearest` by id, the rows not read (`versions`: from `held_versions`)."""
    vector = normalised(query)
    method = await search_method(session)
    if _in_memory_serves(where):
        from troupe.store.vector_cache import nearest_ids  # numpy: see _in_memory_serves

        found = await nearest_ids(session, where.archive_ids, vector, handle, limit, versions)
        if found is not None:
            return found
    score = similarity(method, vector).label("score")
    # Ranked by id alone, then the winners read whole: the sort carries no row's text or
    # vector.
    stmt = _filtered(select(PassageRow.id, score), where).where(
        PassageRow.embedding_handle == handle, PassageRow.embedding_dim == len(vector)
    )
    ranked = (await session.execute(stmt.order_by(score.desc(), PassageRow.id).limit(limit))).all()
    return [(pid, float(value or 0.0)) for pid, value in ranked]


async def held_versions(session: AsyncSession, where: PassageFilter) -> dict[str, int] | None:
    """The archives' versions when the search runs over what is held in memory: read once
    for both halves of a hybrid search; None when it runs in SQL."""
    if not _in_memory_serves(where):
        return None
    from troupe.store.vector_cache import archive_versions  # numpy: see _in_memory_serves

    return await archive_versions(session, where.archive_ids)


def _in_memory_serves(where: PassageFilter) -> bool:
    """The in-memory vectors (store.vector_cache) hold archives and embeddings; the other
    filters are applied in SQL. Those modules, and numpy with them (0.15 s of CPU and 12 MB),
    are imported at the first search, not by every server and CLI command at start."""
    return not (where.start or where.end or where.words or where.tags)


async def rows_of(
    session: AsyncSession, ranked: list[tuple[str, float]]
) -> list[tuple[PassageRow, float]]:
    """The rows of ranked ids, in their order, with their scores (those gone left out)."""
    if not ranked:
        return []
    stmt = select(PassageRow).where(PassageRow.id.in_([pid for pid, _ in ranked]))
    rows = {row.id: row for row in (await session.execute(stmt)).scalars()}
    return [(rows[pid], value) for pid, value in ranked if pid in rows]


async def keyword_matches(
    session: AsyncSession, where: PassageFilter, words: Sequence[str], limit: int
) -> list[tuple[PassageRow, float]]:
    """Passages with a word starting with any of `words` (`own` finds "owner", not
    "downtown"), those with the most first (then the newest), with the share of the words
    each has."""
    return await rows_of(session, await keyword_ranked(session, where, words, limit))


async def keyword_ranked(
    session: AsyncSession,
    where: PassageFilter,
    words: Sequence[str],
    limit: int,
    versions: dict[str, int] | None = None,
) -> list[tuple[str, float]]:
    """`keyword_matches` by id, the rows not read (`versions`: from `held_versions`)."""
    if not words:
        return []
    if _in_memory_serves(where):
        from troupe.store.word_index import keyword_ids  # numpy: see _in_memory_serves

        return await keyword_ids(session, where.archive_ids, words, limit, versions)
    spaced = " " + PassageRow.text
    matches = [spaced.ilike(f"% {escape_like(w)}%", escape="\\") for w in words]
    hits: Any = case((matches[0], 1), else_=0)
    for match in matches[1:]:
        hits = hits + case((match, 1), else_=0)
    stmt = _filtered(select(PassageRow.id, hits.label("hits")), where).where(or_(*matches))
    stmt = stmt.order_by(hits.desc(), PassageRow.created_at.desc(), PassageRow.id).limit(limit)
    ranked = (await session.execute(stmt)).all()
    return [(pid, int(found) / len(words)) for pid, found in ranked]


async def newest(session: AsyncSession, where: PassageFilter, limit: int) -> list[PassageRow]:
    stmt = _filtered(select(PassageRow), where)
    stmt = stmt.order_by(PassageRow.created_at.desc(), PassageRow.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def not_embedded_by(
    session: AsyncSession, archive_id: str, handle: str, dimension: int | None, limit: int
) -> list[PassageRow]:
    """Passages of the archive whose vector another embedding made (or none did);
    `dimension` None: of whatever length that model gives."""
    other = [PassageRow.embedding_handle.is_(None), PassageRow.embedding_handle != handle]
    if dimension is not None:
        other.append(PassageRow.embedding_dim != dimension)
    stmt = select(PassageRow).where(PassageRow.archive_id == archive_id, or_(*other))
    return list((await session.execute(stmt.order_by(PassageRow.id).limit(limit))).scalars())


async def count_passages(session: AsyncSession, archive_ids: Sequence[str]) -> int:
    stmt = select(func.count()).select_from(PassageRow)
    return int(await session.scalar(stmt.where(PassageRow.archive_id.in_(archive_ids))) or 0)


def _filtered(stmt: S, where: PassageFilter) -> S:
    stmt = stmt.where(PassageRow.archive_id.in_(where.archive_ids))
    if where.start is not None:
        stmt = stmt.where(PassageRow.created_at >= where.start)
    if where.end is not None:
        stmt = stmt.where(PassageRow.created_at <= where.end)
    if where.words:
        stmt = stmt.where(
            or_(*(PassageRow.text.ilike(f"%{escape_like(w)}%", escape="\\") for w in where.words))
        )
    if where.tags:
        tagged = select(PassageTagRow.passage_id).where(PassageTagRow.tag.in_(set(where.tags)))
        if where.match_all_tags:
            tagged = tagged.group_by(PassageTagRow.passage_id).having(
                func.count(PassageTagRow.tag) == len(set(where.tags))
            )
        stmt = stmt.where(PassageRow.id.in_(tagged))
    return stmt
