"""The messages in context as `message_ids` shows them (store.context_ids) are the rows of
the window the loop reads (agent.history.read_window), for any page of histories in a fixed
number of statements."""

from troupe.agent.history import read_window
from troupe.agent.messages import Message
from troupe.schemas.agents import AgentCreate
from troupe.services import agents as agent_service
from troupe.store import Database
from troupe.store import messages as message_store
from troupe.store import summaries as summary_store
from troupe.store.context_ids import in_context_ids, in_context_rows
from troupe.store.history_tables import SummaryRow
from troupe.store.messages import History
from troupe.tools.core import core_registry

from .test_query_counts import counting

# An exchange: a user message, a call and its return, a reply.
EXCHANGE = ("user_message", "tool_call_message", "tool_return_message", "assistant_message")


async def agent_with_history(store: Database, exchanges: int) -> History:
    agent = await agent_service.create_agent(store, core_registry(), AgentCreate())
    history = History(agent.id)
    rows = [
        Message(kind, content=f"{n}", tool_call_id=f"call-{n // 4}")
        for n, kind in enumerate(EXCHANGE * exchanges)
    ]
    async with store.write() as session:
        await message_store.append_messages(session, history, rows, last_seq=0)
    return history


async def window_ids(store: Database, history: History, limit_rows: int) -> list[str]:
    async with store.read() as session:
        summary = (await summary_store.current_summaries(session, [history])).get(history)
        window = await read_window(session, history, limit_rows, summary)
    return [row.id for exchange in window.exchanges for row in exchange.rows]


async def test_the_ids_are_the_windows_rows(store: Database) -> None:
    history = await agent_with_history(store, 30)  # 120 rows
    for limit in (200, 120, 50, 47, 3):  # 50 and 47 cut inside an exchange
        async with store.read() as session:
            found = (await in_context_rows(session, [history], limit))[history]
        assert [row.id for row in found] == await window_ids(store, history, limit), limit
        assert len(found) <= limit
        assert found == sorted(found, key=lambda row: row.seq)
        if found:
            assert found[0].opening
    async with store.write() as session:  # a summary through the middle of an exchange
        await summary_store.add_summary(
            session,
            SummaryRow(
                id="summary-ctx", agent_id=history.agent_id, content="s", through_seq=42,
                message_count=42, model="test/summarizer",
            ),
        )  # fmt: skip
    async with store.read() as session:
        found = (await in_context_rows(session, [history], 200))[history]
    assert [row.id for row in found] == await window_ids(store, history, 200)
    assert found[0].seq == 45  # the next exchange's opening message


async def test_a_page_of_histories_is_read_in_two_statements(store: Database) -> None:
    histories = [await agent_with_history(store, 5) for _ in range(12)]
    empty = History((await agent_service.create_agent(store, core_registry(), AgentCreate())).id)
    for page in (histories[:1], [*histories, empty]):
        async with store.read() as session:
            with counting(store) as statements:
                found = await in_context_ids(session, page)
        assert len(statements) == 2
        assert all(len(found[h]) == 20 for h in page if h != empty)
    assert found[empty] == []
