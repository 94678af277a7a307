"""The hot statements run through troupe.store.prepared reach the database exactly as
SQLAlchemy's own path sends them (the same SQL, the same bound values: JSON and datetimes
through the same processors), store the same rows, and read back the same values under the
same names; driver errors come out as SQLAlchemy's."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import IntegrityError

from troupe.schemas.agents import AgentCreate
from troupe.services import agents as agent_service
from troupe.store import Database, step_reads
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.inserts import Statement, execute_statements_now, insert_statements
from troupe.store.messages import History
from troupe.store.tables import MessageRow, RunRow
from troupe.tools.core import core_registry

WHEN = datetime(2026, 12, 6, 15, 1, 2, 345678, tzinfo=UTC)


def hot_writes(agent_id: str, tag: str, first_seq: int) -> list[Statement]:
    """A run's record and a step's write (its messages, its row, the run's end), as the
    server builds them, every value fixed but the ids."""
    run_id, step_id = f"run-{tag}", f"step-{tag}"
    run = RunRow(
        id=run_id, agent_id=agent_id, status="running", created_at=WHEN,
        request={"messages": [{"role": "user", "text": "héllo ☃"}], "max_steps": 10, "x": None},
        usage={}, metadata_=None, started_at=WHEN, heartbeat_at=WHEN,
    )  # fmt: skip
    messages = [
        MessageRow(
            id=f"message-{tag}-{i}",
            agent_id=agent_id,
            seq=first_seq + i,
            run_id=run_id,
            message_type=kind,
            content=f"text {i} ✓",
            created_at=WHEN,
            images=images,
            step_id=step_id if i else None,
            tool_call_id="call-1" if i else None,
            tool_arguments='{"a": 1}' if i else None,
            conversation_id="",
        )
        for i, (kind, images) in enumerate(
            [("user_message", [{"url": "http://127.0.0.1/a.png"}]), ("tool_call_message", None)]
        )
    ]
    step = run_store.step_statement(
        {
            "id": step_id, "run_id": run_id, "agent_id": agent_id, "model": "test/echo",
            "prompt_tokens": 100, "completion_tokens": 10, "model_ms": 5,
            # datetimes of every kind: naive, whole seconds, another offset (prepared.py
            # formats them its own way on SQLite)
            "created_at": WHEN.replace(tzinfo=None), "started_at": WHEN.replace(microsecond=0),
            "tools_ms": None,
        }
    )  # fmt: skip
    end, values = run_store.end_statement(
        run_id, "completed", "end_turn", None, usage={"prompt_tokens": 100, "step_count": 1}
    )
    return [
        *insert_statements([run]),
        *message_store.message_statements(messages),
        step,
        (end, {**values, "now": WHEN.astimezone(timezone(timedelta(hours=-3)))}),
    ]


@contextmanager
def sent(store: Database) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engines = {id(e): e for e in (store.writer, store.reader)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


def without_ids(found: list[tuple[str, Any]], tag: str, agent_id: str) -> list[tuple[str, str]]:
    return [(sql, repr(params).replace(tag, "T").replace(agent_id, "A")) for sql, params in found]


async def stored(store: Database, tag: str) -> str:
    """The rows written under `tag`, as read back raw (the bytes stored), without ids."""
    queries = {
        "runs": "SELECT * FROM runs WHERE id = :run",
        "steps": "SELECT * FROM steps WHERE id = :step",
        "messages": "SELECT * FROM messages WHERE run_id = :run ORDER BY seq",
    }
    rows = {}
    async with store.read() as session:
        for table, query in queries.items():
            found = await session.execute(text(query), {"run": f"run-{tag}", "step": f"step-{tag}"})
            rows[table] = [
                tuple(v for k, v in row._mapping.items() if k not in ("id", "run_id", "agent_id"))
                for row in found
            ]
    return repr(rows).replace(tag, "T")


def by_sqlalchemy(statements: list[Statement]) -> Any:
    def work(connection: Connection) -> None:  # each statement once, as executemany
        merged: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        for statement, values in statements:
            merged.setdefault(id(statement), (statement, []))[1].append(values)
        for statement, values_list in merged.values():
            connection.execute(statement.statement, values_list)

    return work


def prepared_writes(statements: list[Statement]) -> Any:
    return lambda connection: execute_statements_now(connection, statements)


async def test_prepared_writes_send_and_store_what_sqlalchemys_path_does(store: Database) -> None:
    agents = [
        (
            await agent_service.create_agent(store, core_registry(), AgentCreate(model="test/echo"))
        ).id
        for _ in range(2)
    ]
    for attempt in range(2):  # the second time, from the forms kept the first time
        tags = (f"prep{attempt}", f"sqla{attempt}")
        with sent(store) as by_prepared:
            await store.write_now(prepared_writes(hot_writes(agents[0], tags[0], 10 * attempt)))
        with sent(store) as by_sqla:
            await store.write_now(by_sqlalchemy(hot_writes(agents[1], tags[1], 10 * attempt)))
        assert without_ids(by_prepared, tags[0], agents[0]) == without_ids(
            by_sqla, tags[1], agents[1]
        )
        assert len(by_prepared) == 4  # run, messages (one executemany), step, run's end
        assert await stored(store, tags[0]) == await stored(store, tags[1])
        assert "text 1" in await stored(store, tags[0])  # the rows are there to compare

    # A driver error is SQLAlchemy's (the run's id is taken), and nothing is written.
    before = await stored(store, "prep0")
    with pytest.raises(IntegrityError):
        await store.write_now(prepared_writes(hot_writes(agents[0], "prep0", 100)))
    assert await stored(store, "prep0") == before


async def test_prepared_reads_return_what_sqlalchemys_path_does(store: Database) -> None:
    agents = [
        (
            await agent_service.create_agent(store, core_registry(), AgentCreate(model="test/echo"))
        ).id
        for _ in range(2)
    ]
    for i, agent_id in enumerate(agents):
        await store.write_now(prepared_writes(hot_writes(agent_id, f"read{i}", 1)))
    histories = [History(agent_id) for agent_id in agents]
    reads = [
        (message_store._NEWEST_STEP, message_store._newest_step_values(histories[0], 64)),
        (
            message_store._after_each(1, 9),
            {"agent_0": agents[0], "conv_0": "", "seq_0": 0},
        ),
        (
            message_store._after_each(2, 9),
            {"agent_0": agents[0], "conv_0": "", "seq_0": 0}
            | {"agent_1": agents[1], "conv_1": "", "seq_1": 1, "limit": 9},
        ),
        *(
            (step_reads._agent_starts(len(agents), postgres), step_reads._agent_values(agents))
            for postgres in [not store.is_sqlite]
        ),
    ]

    def read(connection: Connection) -> list[tuple[Any, Any]]:
        return [
            (
                prepared.fetch(connection, values),
                connection.execute(prepared.statement, values).all(),
            )
            for prepared, values in reads
        ]

    for _ in range(2):  # the second time, from the forms kept the first time
        with sent(store) as statements:
            found = await store.read_now(read)
        assert len(statements) == 2 * len(reads)
        assert [sql for sql, _ in statements[::2]] == [sql for sql, _ in statements[1::2]]
        assert [p for _, p in statements[::2]] == [p for _, p in statements[1::2]]
        for ours, theirs in found:
            assert ours
            assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
            assert ours[0]._fields == theirs[0]._fields
            assert [type(v) for v in ours[0]] == [type(v) for v in theirs[0]]
    newest = found[0][0]
    assert [(r.seq, r.tool_call_id, r.images) for r in newest] == [(2, "call-1", None)]
    first = found[1][0][0]
    assert first.images == [{"url": "http://127.0.0.1/a.png"}]  # JSON read back
