"""Hot paths do a fixed number of queries, however much they carry (no N+1)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event

from troupe.schemas.agents import AgentCreate, AgentState, AgentUpdate
from troupe.schemas.blocks import BlockCreate
from troupe.schemas.identities import IdentityCreate
from troupe.schemas.tools import ToolCreate
from troupe.services import agents as agent_service
from troupe.services.agents import Include
from troupe.services.blocks import create_block
from troupe.services.identities import create_identity
from troupe.services.tools import create_tool
from troupe.store import Database
from troupe.store.agents import AgentFilter
from troupe.store.paging import Page
from troupe.tools.core import core_registry


@contextmanager
def counting(store: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    engines = {id(e): e for e in (store.writer, store.reader)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_creating_an_agent_costs_the_same_queries_with_one_or_ten_of_everything(
    store: Database,
) -> None:
    tools = [
        await create_tool(
            store, ToolCreate(source_code=f"def qc_tool_{i}(x: int) -> int:\n    return x")
        )
        for i in range(20)
    ]
    blocks = [
        await create_block(store, BlockCreate(label=f"shared{i}", value="v")) for i in range(10)
    ]

    async def create(n: int) -> int:
        spec = AgentCreate(
            memory_blocks=[BlockCreate(label=f"b{i}", value="v") for i in range(n)],
            block_ids=[b.id for b in blocks[:n]],
            tools=[t.name for t in tools[:n]],
            tool_ids=[t.id for t in tools[10 : 10 + n]],
            tags=[f"t{i}" for i in range(n)],
            secrets={f"V{i}": "v" for i in range(n)},
        )
        with counting(store) as statements:
            agent = await agent_service.create_agent(store, core_registry(), spec)
        assert (len(agent.blocks), len(agent.tags), len(agent.secrets)) == (2 * n, n, n)
        assert len(agent.tools) == 2 * n + 6  # and the 6 base tools
        return len(statements)

    one, ten = await create(1), await create(10)
    assert one == ten
    assert ten <= 10  # the variables' INSERT is one of them


async def test_modifying_an_agent_costs_the_same_queries_with_one_or_ten_links(
    store: Database,
) -> None:
    blocks = [await create_block(store, BlockCreate(label=f"m{i}", value="v")) for i in range(10)]
    agent = await agent_service.create_agent(
        store, core_registry(), AgentCreate(name="modified", secrets={"START": "x"})
    )
    tool_ids = [t.id for t in agent.tools]

    async def modify(n: int) -> int:
        changes = AgentUpdate(
            block_ids=[b.id for b in blocks[:n]],
            tool_ids=tool_ids[:n],
            tags=[f"x{i}" for i in range(n)],
            secrets={f"V{i}_{n}": "v" for i in range(n)},
        )
        with counting(store) as statements:
            await agent_service.update_agent(store, agent.id, changes)
        return len(statements)

    one, ten = await modify(1), await modify(10)
    assert one == ten
    # The row, then per relation (tags, blocks, tools, variables) a lookup, a delete and one
    # insert, the row's update and the reload (with its identities, the group it manages
    # and its variables, and the messages in its context: two statements at most): a
    # constant 20 or so.
    assert ten <= 22


async def test_listing_a_thousand_tagged_agents_is_a_few_queries(store: Database) -> None:
    async def list_bulk(limit: int) -> tuple[list[AgentState], int]:
        with counting(store) as statements:
            agents = await agent_service.list_agents(
                store, Page(limit=limit), AgentFilter(tags=["bulk"], match_all_tags=True), Include()
            )
        return agents, len(statements)

    for i in range(1000):
        await agent_service.create_agent(
            store,
            core_registry(),
            AgentCreate(
                name=f"bulk-{i}",
                tags=["bulk", f"n{i % 7}"],
                memory_blocks=[BlockCreate(label="persona", value="p")],
            ),
        )
        if i == 9:
            ten, queries_for_ten = await list_bulk(1000)
            assert len(ten) == 10
    agents, queries = await list_bulk(1000)
    assert len(agents) == 1000
    assert queries == queries_for_ten
    # rows, tags, tools, blocks, variables, folders, identities, groups managed, and the
    # messages in context (where each agent's starts, then the messages: store.context_ids)
    assert queries <= 10
    narrowed = Include(tools=False, blocks=False, secrets=False)
    with counting(store) as statements:
        await agent_service.list_agents(
            store, Page(limit=1000), AgentFilter(tags=["bulk"], match_all_tags=True), narrowed
        )
    assert len(statements) == queries - 3  # what `include` leaves out is not read
    assert all(len(a.tools) == 6 and a.blocks[0].label == "persona" for a in agents)
    assert all(a.tags == ["bulk", f"n{int(a.name.split('-')[1]) % 7}"] for a in agents)


async def test_listing_agents_with_their_whole_identities_adds_a_fixed_few_queries(
    store: Database,
) -> None:
    identities = [
        await create_identity(
            store, IdentityCreate(identifier_key=f"qc-{i}", name=f"qc {i}", identity_type="user")
        )
        for i in range(3)
    ]

    async def list_linked(n: int) -> int:
        for i in range(n):
            await agent_service.create_agent(
                store,
                core_registry(),
                AgentCreate(
                    name=f"linked-{n}-{i}", tags=[f"linked{n}"], identity_ids=[identities[i % 3].id]
                ),
            )
        with counting(store) as statements:
            agents = await agent_service.list_agents(
                store, Page(limit=100), AgentFilter(tags=[f"linked{n}"]), Include()
            )
        assert len(agents) == n
        assert all(a.identities[0].id == a.identity_ids[0] for a in agents)
        assert all(a.id in a.identities[0].agent_ids for a in agents)
        return len(statements)

    one, ten = await list_linked(1), await list_linked(10)
    assert one == ten
    # The 9 of a listing (these agents have no messages: one statement finds none in
    # context), then the identities' rows and their agent and block links.
    assert ten <= 12


# Set while a counted message is sent: the tasks it starts inherit it, the server's own
# background rounds (maintenance, schedules, the mailbox) do not.
COUNTED: ContextVar[bool] = ContextVar("counted", default=False)


@contextmanager
def counting_transactions(db: Database) -> Iterator[dict[str, list[str]]]:
    """Every statement the work of this context runs on each engine (reads, writes,
    PostgreSQL's advisory locks), and each transaction it begins, by engine."""
    seen: dict[str, list[str]] = {"read": [], "write": [], "locks": [], "transactions": []}
    engines = {"read": db.reader, "write": db.writer, "locks": db.lock_engine}
    hooks: list[tuple[Any, str, Any]] = []
    for name, engine in engines.items():
        if engine is None or (name == "read" and engine is db.writer):
            continue

        def record(*args: Any, name: str = name) -> None:
            if COUNTED.get():
                seen[name].append(args[2])

        def begin(*_: Any, name: str = name) -> None:
            if COUNTED.get():
                seen["transactions"].append(name)

        hooks += [(engine.sync_engine, "before_cursor_execute", record)]
        hooks += [(engine.sync_engine, "begin", begin)]
    for target, kind, hook in hooks:
        event.listen(target, kind, hook)
    token = COUNTED.set(True)
    try:
        yield seen
    finally:
        COUNTED.reset(token)
        for target, kind, hook in hooks:
            event.remove(target, kind, hook)


async def test_a_message_costs_a_fixed_few_statements_however_long_the_history(
    store: Database, tmp_path: Any, monkeypatch: Any
) -> None:
    """The whole path of POST /v1/agents/{id}/messages, from the service call to the
    after-turn listeners: the statements it runs don't grow with the history."""
    import asyncio

    from troupe.bootstrap import start_services, stop_services
    from troupe.config import Settings
    from troupe.schemas.messages import MessageRequest
    from troupe.services import messages as message_service
    from troupe.store.messages import History

    monkeypatch.setenv("TROUPE_HOME", str(tmp_path))
    url = store.url.render_as_string(hide_password=False)
    services = await start_services(Settings(database_url=url))
    try:
        agent = await agent_service.create_agent(
            services.db, services.registry, AgentCreate(name="counted", model="test/echo")
        )
        executor = services.executor

        async def send(text: str) -> dict[str, list[str]]:
            with counting_transactions(services.db) as seen:
                body = MessageRequest.model_validate(
                    {"messages": [{"role": "user", "content": text}]}
                )
                response = await message_service.send(executor, History(agent.id), body)
                while executor._tasks:  # the after-turn listeners
                    await asyncio.wait(list(executor._tasks))
            assert response.result.stop_reason == "end_turn"
            return seen

        for i in range(3):
            await send(f"warm-up {i}")
        first, later = await send("counted"), await send("counted again")
        count = {k: len(v) for k, v in later.items()}
        assert count == {k: len(v) for k, v in first.items()}
        print("\nstatements per message:", count)
        for kind in ("read", "write", "locks"):
            for statement in later[kind]:
                print(f"  {kind}: {' '.join(statement.split())[:150]}")
        # Reads: the turn's start (the agent with its blocks, its tools' versions and
        # whether it has a sleep-time group; the window's new rows). Writes: the run's insert after
        # the check that no call waits for approval, in one transaction; the step's messages,
        # its row and the run's end, in another. On SQLite the history's lock is free, so
        # the turn's start is read in the run's transaction (runs.executor `open_run`), and
        # the window's new rows (none) with the window held answer the check: one
        # transaction and one statement fewer. PostgreSQL reads the start once it holds the
        # history's cross-process lock, whose take and release are one statement each on
        # the lock connection.
        if services.db.is_sqlite:
            assert (count["read"], count["write"], count["transactions"]) == (0, 6, 2)
        else:
            assert (count["read"], count["write"], count["transactions"]) == (2, 5, 3)
        assert count["locks"] == (0 if services.db.is_sqlite else 2)
    finally:
        await stop_services(services)
