"""SQLite parses and plans a statement once per connection, however many different
statements the connection ran before it (see `store.sqlite_inline`: pysqlite3's statement
cache, once full, prepares each newcomer again at every execution, so connections are
renewed before theirs fills). The driver's own cache is watched: its factory, the
connection's `__call__`, is called for each statement it has to prepare."""

import asyncio
import collections
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from troupe.store import Database, sqlite_inline


class Watched(list[collections.Counter[str]]):
    """Each connection opened: the statements SQLite prepared on it, by SQL text."""

    def total(self, sql: str) -> int:
        return sum(counts[sql] for counts in self)

    def again(self, since: list[collections.Counter[str]]) -> dict[str, int]:
        """Statements that a connection prepared once more since `since`, having prepared
        them before (a connection's first preparation of a statement is no repeat)."""
        repeats: collections.Counter[str] = collections.Counter()
        for index, counts in enumerate(self):
            earlier = since[index] if index < len(since) else collections.Counter()
            for sql, n in counts.items():
                if n > 1 and n > earlier[sql]:
                    repeats[sql] += n - max(earlier[sql], 1)
        return dict(repeats)

    def snapshot(self) -> list[collections.Counter[str]]:
        return [collections.Counter(counts) for counts in self]


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> Watched:
    """Every connection opened from now on, watched."""
    watched = Watched()

    class Counting(sqlite_inline.driver.Connection):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self.counts: collections.Counter[str] = collections.Counter()
            watched.append(self.counts)

        def __call__(self, sql: str) -> Any:  # the cache's factory: a statement to prepare
            self.counts[sql] += 1
            return super().__call__(sql)

    connect = sqlite_inline.driver.connect

    def counting_connect(*args: Any, **kw: Any) -> Any:
        return connect(*args, factory=Counting, **kw)

    monkeypatch.setattr(sqlite_inline.driver, "connect", counting_connect)
    return watched


async def test_a_statement_run_after_the_cache_filled_is_prepared_once_more_at_most(
    tmp_path: Path, prepared: Watched
) -> None:
    db = Database(f"sqlite:///{tmp_path}/cache.db")
    try:
        await db.migrate()
        # As many different statements as a connection's cache holds, on the writer.
        async with db.write() as session:
            for n in range(sqlite_inline.STATEMENT_CACHE):
                await session.execute(text(f"SELECT {n} + :x"), {"x": 1})
        hot = "SELECT count(*) FROM agents WHERE id = ?"
        query = text("SELECT count(*) FROM agents WHERE id = :id")
        # At once (no greenlet: `write_now` with the writer free), where the full connection
        # is replaced first, and through a session.
        for _ in range(15):
            found = await db.write_now(lambda c: c.execute(query, {"id": "a"}).scalar_one())
            assert found == 0
            async with db.write() as session:
                assert (await session.execute(query, {"id": "a"})).scalar_one() == 0
        # Once on the full connection at most, once on the one that replaced it.
        assert prepared.total(hot) <= 2, prepared.total(hot)
    finally:
        await db.dispose()


async def test_a_message_prepares_none_of_its_statements_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prepared: Watched
) -> None:
    """The whole path of a message on a fresh database, whose migrations ran more different
    statements on the writer than its cache holds: after the first messages, nothing is
    prepared again."""
    from troupe.bootstrap import start_services, stop_services
    from troupe.config import Settings
    from troupe.schemas.agents import AgentCreate
    from troupe.schemas.messages import MessageRequest
    from troupe.services import agents as agent_service
    from troupe.services import messages as message_service
    from troupe.store.messages import History

    monkeypatch.setenv("TROUPE_HOME", str(tmp_path))
    services = await start_services(Settings(database_url=f"sqlite:///{tmp_path}/t.db"))
    try:
        agent = await agent_service.create_agent(
            services.db, services.registry, AgentCreate(name="cached", model="test/echo")
        )

        async def send(text: str) -> None:
            body = MessageRequest.model_validate({"messages": [{"role": "user", "content": text}]})
            response = await message_service.send(services.executor, History(agent.id), body)
            assert response.result.stop_reason == "end_turn"
            while services.executor._tasks:  # the after-turn listeners
                await asyncio.wait(list(services.executor._tasks))

        for i in range(3):
            await send(f"warm-up {i}")
        before = prepared.snapshot()
        for i in range(20):
            await send(f"message {i}")
        again = prepared.again(before)
        assert again == {}, again
    finally:
        await stop_services(services)
