"""Hot paths do a fixed number of queries, however much they carry (no N+1)."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from troupe.schemas.agents import AgentCreate
from troupe.schemas.blocks import BlockCreate
from troupe.schemas.tools import ToolCreate
from troupe.services import agents as agent_service
from troupe.services.agents import Include
from troupe.services.tools import create_tool, sync_builtin_tools
from troupe.store import Database
from troupe.store.agents import AgentFilter
from troupe.store.paging import Page


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, database_factory: Any) -> AsyncIterator[Database]:
    database = Database(database_factory(request.param))
    await database.migrate()
    await sync_builtin_tools(database)
    yield database
    await database.dispose()


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    engines = {id(e): e for e in (db.writer, db.reader)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_creating_an_agent_costs_the_same_queries_with_one_or_ten_of_everything(
    db: Database,
) -> None:
    names = []
    for i in range(10):
        tool = await create_tool(
            db, ToolCreate(source_code=f"def qc_tool_{i}(x: int) -> int:\n    return x")
        )
        names.append(tool.name)

    async def create(n: int) -> int:
        spec = AgentCreate(
            memory_blocks=[BlockCreate(label=f"b{i}", value="v") for i in range(n)],
            tools=names[:n],
            tags=[f"t{i}" for i in range(n)],
        )
        with counting(db) as statements:
            await agent_service.create_agent(db, spec)
        return len(statements)

    one, ten = await create(1), await create(10)
    assert one == ten
    assert ten <= 8


async def test_listing_a_thousand_tagged_agents_is_a_few_queries(db: Database) -> None:
    for i in range(1000):
        await agent_service.create_agent(
            db,
            AgentCreate(
                name=f"bulk-{i}",
                tags=["bulk", f"n{i % 7}"],
                memory_blocks=[BlockCreate(label="persona", value="p")],
            ),
        )
    with counting(db) as statements:
        agents = await agent_service.list_agents(
            db, Page(limit=1000), AgentFilter(tags=["bulk"], match_all_tags=True), Include()
        )
    assert len(agents) == 1000
    assert all(len(a.tools) == 6 and a.blocks[0].label == "persona" for a in agents)
    assert len(statements) <= 5
