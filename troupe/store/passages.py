"""Archival passages: what agents store for later search."""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store.messages import escape_like
from troupe.store.tables import PassageRow


async def insert_passage(session: AsyncSession, agent_id: str, text: str) -> None:
    session.add(PassageRow(id=new_id("passage"), agent_id=agent_id, text=text))


async def search_passages(
    session: AsyncSession, agent_id: str, query: str, *, limit: int, offset: int
) -> list[PassageRow]:
    words = [w for w in query.split() if w]
    stmt = select(PassageRow).where(PassageRow.agent_id == agent_id)
    if words:
        stmt = stmt.where(
            or_(*(PassageRow.text.ilike(f"%{escape_like(w)}%", escape="\\") for w in words))
        )
    rows = list((await session.execute(stmt.order_by(PassageRow.created_at.desc()))).scalars())
    # Rank by how many of the words a passage contains; newest first among equals.
    lowered = [w.lower() for w in words]
    rows.sort(key=lambda r: -sum(w in r.text.lower() for w in lowered))
    return rows[offset : offset + limit]
