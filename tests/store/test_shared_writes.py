"""Group commit (troupe.store.shared_writes): writes ready at the same moment share one
transaction, and a write that fails does not take its siblings down with it."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store import Database
from troupe.store.inserts import insert_statements
from troupe.store.tables import BlockRow


@contextmanager
def commits(store: Database) -> Iterator[list[int]]:
    counted: list[int] = []

    def record(_conn: Any) -> None:
        counted.append(1)

    event.listen(store.writer.sync_engine, "commit", record)
    try:
        yield counted
    finally:
        event.remove(store.writer.sync_engine, "commit", record)


def block(label: str, block_id: str | None = None) -> BlockRow:
    return BlockRow(id=block_id or new_id("block"), label=label, value=label, char_limit=100)


async def labels(store: Database) -> set[str]:
    async with store.read() as session:
        return set((await session.execute(select(BlockRow.label))).scalars())


async def test_writes_ready_together_commit_once_and_all_land(store: Database) -> None:
    """The first write of a loop turn goes at once (nothing would have joined it); the
    others of the same turn share one transaction."""
    wanted = {f"together-{i}" for i in range(20)}
    with commits(store) as counted:
        await asyncio.gather(
            *(store.write_shared(insert_statements([block(label)])) for label in wanted)
        )
    assert len(counted) == 2
    assert wanted <= await labels(store)


async def test_a_lone_write_on_sqlite_commits_without_a_loop_turn(store: Database) -> None:
    if not store.is_sqlite:
        pytest.skip("PostgreSQL's commit waits for the server")
    turned: list[bool] = []
    asyncio.get_running_loop().call_soon(turned.append, True)
    with commits(store) as counted:
        await store.write_shared(insert_statements([block("at-once")]))
    assert not turned  # committed before the loop turned
    assert len(counted) == 1
    assert "at-once" in await labels(store)


async def test_writes_apart_in_time_each_commit(store: Database) -> None:
    with commits(store) as counted:
        for i in range(3):
            await store.write_shared(insert_statements([block(f"apart-{i}")]))
    assert len(counted) == 3
    assert {f"apart-{i}" for i in range(3)} <= await labels(store)


async def test_a_write_that_fails_fails_alone(store: Database) -> None:
    taken = new_id("block")
    await store.write_shared(insert_statements([block("first-owner", taken)]))
    writes = [insert_statements([block(f"sibling-{i}")]) for i in range(4)]
    writes.insert(2, insert_statements([block("duplicate", taken)]))  # same primary key
    answers = await asyncio.gather(*(store.write_shared(w) for w in writes), return_exceptions=True)
    assert [isinstance(a, IntegrityError) for a in answers] == [False, False, True, False, False]
    stored = await labels(store)
    assert {f"sibling-{i}" for i in range(4)} <= stored
    assert "duplicate" not in stored


async def test_before_runs_in_the_same_transaction_and_again_after_a_rollback(
    store: Database,
) -> None:
    taken = new_id("block")
    await store.write_shared(insert_statements([block("owner", taken)]))
    calls: list[str] = []

    def before(label: str) -> Any:
        async def add(session: AsyncSession) -> None:
            calls.append(label)
            session.add(block(label))  # flushed with the write's own statements
            await session.flush()

        return add

    answers = await asyncio.gather(
        store.write_shared(insert_statements([block("at-once")])),  # the turn's first
        store.write_shared(insert_statements([block("plain")]), before("from-before")),
        store.write_shared(insert_statements([block("clash", taken)]), before("doomed-before")),
        return_exceptions=True,
    )
    assert answers[:2] == [None, None]
    assert isinstance(answers[2], IntegrityError)
    # Each ran in the shared attempt, then again alone after its rollback.
    assert calls == ["from-before", "doomed-before", "from-before", "doomed-before"]
    stored = await labels(store)
    assert {"at-once", "plain", "from-before"} <= stored
    assert not {"clash", "doomed-before"} & stored
