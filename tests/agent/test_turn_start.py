"""Turns that start together read their contexts together (troupe.agent.turn_start):
a fixed number of statements however many they are, and for each agent exactly what a
read of that agent alone gives."""

import asyncio
from typing import Any

from sqlalchemy import event

from troupe.agent.history import HistoryWindows
from troupe.agent.turn_start import TurnStart, TurnStarts
from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.schemas.agents import AgentCreate
from troupe.services.agents import create_agent
from troupe.store import Database, step_reads
from troupe.store import messages as message_store
from troupe.store.messages import History
from troupe.store.step_reads import ToolShelf
from troupe.store.tables import MessageRow, utcnow
from troupe.tools.core import core_registry

LIMIT = 8


def contexts(store: Database) -> TurnStarts:
    return TurnStarts(store, ToolShelf(), HistoryWindows(LIMIT, 10_000))


async def add_messages(store: Database, agent_id: str, count: int) -> None:
    rows = [
        MessageRow(
            id=new_id("message"),
            message_type="user_message" if i % 2 == 0 else "assistant_message",
            content=f"{agent_id} says {i}",
            run_id=None,
            created_at=utcnow(),
        )
        for i in range(count)
    ]
    async with store.write() as session:
        await message_store.append_messages(session, History(agent_id), rows)


def seen(context: TurnStart) -> tuple[Any, ...]:
    """What a turn compiles from."""
    window = context.window
    return (
        context.agent,
        sorted((name, tool.id, tool.updated_at) for name, tool in context.tools.items()),
        context.blocks,
        window.last_seq,
        window.fit([], budget_tokens=10**9).messages,
    )


async def test_turns_starting_together_read_in_four_statements_what_each_would_alone(
    store: Database,
) -> None:
    agents = []
    for i in range(12):
        spec = AgentCreate(
            name=f"ctx-{i}",
            model="test/echo",
            memory_blocks=[
                {"label": "persona", "value": f"p{i}"},
                {"label": "human", "value": "h"},
            ],
            include_base_tools=i % 3 != 0,
        )
        agents.append((await create_agent(store, core_registry(), spec)).id)
    together = contexts(store)
    # Held windows for all but two, then histories that grew by different amounts since,
    # one of them by more than a window holds (it must be read afresh).
    await asyncio.gather(*(together.read(History(a)) for a in agents[2:]))
    for n, agent_id in enumerate(agents):
        await add_messages(store, agent_id, n % 4 * 2 if n != 5 else LIMIT * 3)

    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(store.reader.sync_engine, "before_cursor_execute", listener)
    try:
        read = await asyncio.gather(*(together.read(History(a)) for a in agents[2:]))
    finally:
        event.remove(store.reader.sync_engine, "before_cursor_execute", listener)
    # agents with their blocks and tool versions, the windows' new rows; then the one
    # far-behind window afresh (its summary, its newest rows) — no statement per agent.
    assert len(statements) <= 4, "\n\n".join(statements)

    alone = [await contexts(store).read(History(a)) for a in agents[2:]]
    assert [seen(c) for c in read] == [seen(c) for c in alone]
    # The blocks that come with the agent's row are those a later step reads by themselves,
    # in attachment order (persona first), with their types.
    async with store.read() as session:
        for context in read:
            assert context.blocks == await step_reads.prompt_blocks(session, context.agent.id)
            assert [b.label for b in context.blocks] == ["persona", "human"]
            assert context.blocks[0].read_only is False
            assert context.blocks[0].char_limit > 0
    assert read[3].window.last_seq == LIMIT * 3  # agents[5]: read afresh, up to date
    assert [c.window.last_seq for c in read] == [
        n % 4 * 2 if n != 5 else LIMIT * 3 for n in range(2, 12)
    ]


async def test_an_agent_missing_from_a_batch_fails_alone(store: Database) -> None:
    spec = AgentCreate(name="ctx-present", model="test/echo", memory_blocks=[])
    present = (await create_agent(store, core_registry(), spec)).id
    reads = contexts(store)
    answers = await asyncio.gather(
        reads.read(History(present)), reads.read(History("agent-gone")), return_exceptions=True
    )
    assert isinstance(answers[0], TurnStart)
    assert answers[0].agent.id == present
    assert isinstance(answers[1], NotFound)


async def test_a_turn_start_sees_a_tool_changed_since_the_last_one(store: Database) -> None:
    """The tools a turn's start reads come from a shelf kept by version: a tool changed
    (or detached) since the previous turn is never served as it was."""
    from troupe.schemas.tools import ToolCreate, ToolUpdate
    from troupe.services.attachments import detach_tool
    from troupe.services.tools import create_tool, update_tool

    tool = await create_tool(
        store, ToolCreate(source_code="def shelf_probe(x: int) -> int:\n    return x")
    )
    spec = AgentCreate(name="ctx-tools", model="test/echo", tool_ids=[tool.id])
    agent_id = (await create_agent(store, core_registry(), spec)).id
    reads = contexts(store)
    before = await reads.read(History(agent_id))
    assert before.tools["shelf_probe"].description != "changed"

    await update_tool(store, tool.id, ToolUpdate(description="changed"))
    after = await reads.read(History(agent_id))
    assert after.tools["shelf_probe"].description == "changed"
    assert after.tools["shelf_probe"].updated_at > before.tools["shelf_probe"].updated_at

    await detach_tool(store, agent_id, tool.id)
    assert "shelf_probe" not in (await reads.read(History(agent_id))).tools
