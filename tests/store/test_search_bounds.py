"""The store's own guards behind the routes' limits: a message search merges repeated words
and bounds their number and length, and a database failure is told without its SQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from troupe.schemas.agents import AgentCreate
from troupe.services.agents import create_agent
from troupe.store import Database, message_search
from troupe.store.failures import MAX_FAILURE_CHARS, failure_text
from troupe.tools.core import core_registry


async def test_a_search_of_thousands_of_words_or_a_huge_word_does_not_fail(
    store: Database,
) -> None:
    agent = await create_agent(store, core_registry(), AgentCreate(name="searcher"))
    async with store.read() as session:
        many = await message_search.search_messages(
            session, agent.id, "q " * 999, limit=5, offset=0
        )
        distinct = await message_search.search_messages(
            session, agent.id, " ".join(f"w{i}" for i in range(1500)), limit=5, offset=0
        )
        huge = await message_search.search_messages(
            session, agent.id, "x" * 60_000, limit=5, offset=0
        )
    assert many == distinct == huge == []


async def test_a_database_failure_is_told_without_its_statement(store: Database) -> None:
    marker = "m" * 5000
    with pytest.raises(DBAPIError) as caught:
        async with store.read() as session:
            await session.execute(text(f"SELECT * FROM no_such_table WHERE x = '{marker}'"))
    assert marker in str(caught.value)  # the driver's error carries the whole statement
    told = failure_text(caught.value)
    assert told
    assert marker not in told
    assert len(told) <= MAX_FAILURE_CHARS
    assert "no_such_table" in told
