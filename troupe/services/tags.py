"""Tags in use across agents."""

from troupe.store import Database
from troupe.store import agents as agent_store


async def list_tags(
    db: Database, *, after: str | None, limit: int, query_text: str | None
) -> list[str]:
    async with db.read() as session:
        return await agent_store.all_tags(session, after=after, limit=limit, query_text=query_text)
