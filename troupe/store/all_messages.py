"""Messages across every agent's history: the list and the word search of /v1/messages."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.message_search import any_word
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import MessageRow


async def list_all_messages(
    session: AsyncSession,
    page: Page,
    *,
    types: Sequence[str] | None = None,
    agent_id: str | None = None,
    conversation_id: str | None = None,
) -> list[MessageRow]:
    """Every agent's messages, by creation; those of `types`, of `agent_id`, of
    `conversation_id` ("": the default histories) when given. A conversation's list names
    its agent too, which the history's index leads with."""
    stmt = select(MessageRow)
    if types is not None:
        stmt = stmt.where(MessageRow.message_type.in_(types))
    if agent_id is not None:
        stmt = stmt.where(MessageRow.agent_id == agent_id)
    if conversation_id is not None:
        stmt = stmt.where(MessageRow.conversation_id == conversation_id)
    return await fetch_page(session, stmt, by_creation(MessageRow), page)


@dataclass(frozen=True)
class MessageQuery:
    """What a search across agents looks for: any of the words, in messages of `types`."""

    words: Sequence[str]
    types: Sequence[str]
    agent_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


async def find_messages(session: AsyncSession, query: MessageQuery, limit: int) -> list[MessageRow]:
    """Messages holding any of the words (any case), newest first."""
    stmt = select(MessageRow).where(MessageRow.message_type.in_(query.types), any_word(query.words))
    if query.agent_id is not None:
        stmt = stmt.where(MessageRow.agent_id == query.agent_id)
    if query.start is not None:
        stmt = stmt.where(MessageRow.created_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(MessageRow.created_at <= query.end)
    stmt = stmt.order_by(MessageRow.created_at.desc(), MessageRow.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())
