"""Whether the database answers."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def ping(session: AsyncSession) -> None:
    """One trivial statement: raises if the database cannot be reached."""
    await session.execute(text("SELECT 1"))
