"""How much an agent holds outside its context window: its stored messages (recall memory)
and its archival passages."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import MessageRow, PassageRow


async def count_messages(session: AsyncSession, agent_id: str) -> int:
    stmt = select(func.count()).select_from(MessageRow).where(MessageRow.agent_id == agent_id)
    return int((await session.execute(stmt)).scalar_one())


async def count_passages(session: AsyncSession, agent_id: str) -> int:
    stmt = select(func.count()).select_from(PassageRow).where(PassageRow.agent_id == agent_id)
    return int((await session.execute(stmt)).scalar_one())
