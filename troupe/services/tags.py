"""Tags in use across agents."""

from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store.paging import Page


async def list_tags(db: Database, page: Page, *, query_text: str | None) -> list[str]:
    async with db.read() as session:
        return await agent_store.all_tags(session, page, query_text=query_text)
