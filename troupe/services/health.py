"""Liveness of the store."""

from sqlalchemy import text

from troupe.store import Database


async def check_database(db: Database) -> None:
    async with db.read() as session:
        await session.execute(text("SELECT 1"))
