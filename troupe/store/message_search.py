"""Searching an agent's messages by their words (conversation_search, the message search
routes): a case-insensitive match of any word, bounded in number and length."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.schemas.search_limits import distinct_words
from troupe.store.messages import escape_like
from troupe.store.tables import MessageRow

SEARCHED_TYPES = ("user_message", "assistant_message", "system_message")


async def search_messages(
    session: AsyncSession,
    agent_id: str,
    query: str,
    *,
    limit: int,
    offset: int,
    types: Sequence[str] = SEARCHED_TYPES,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[MessageRow]:
    """An agent's messages of `types` holding any word of `query` (all, without one),
    created within [start, end] when given; newest first."""
    words = [w for w in query.split() if w]
    stmt = select(MessageRow).where(
        MessageRow.agent_id == agent_id, MessageRow.message_type.in_(types)
    )
    if words:
        stmt = stmt.where(any_word(words))
    if start is not None:
        stmt = stmt.where(MessageRow.created_at >= start)
    if end is not None:
        stmt = stmt.where(MessageRow.created_at <= end)
    stmt = stmt.order_by(MessageRow.seq.desc()).offset(offset).limit(limit)
    return list((await session.execute(stmt)).scalars())


def any_word(words: Sequence[str]) -> Any:
    """Content holding any of the words, in any case (repeats merged, bounded in number and
    length: see troupe.schemas.search_limits)."""
    return or_(
        *(
            MessageRow.content.ilike(f"%{escape_like(w)}%", escape="\\")
            for w in distinct_words(words)
        )
    )
