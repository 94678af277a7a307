"""Liveness of the store."""

from troupe.store import Database
from troupe.store.health import ping


async def check_database(db: Database) -> None:
    async with db.read() as session:
        await ping(session)
