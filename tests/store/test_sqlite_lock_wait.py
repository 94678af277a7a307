"""SQLite statements run on the server's event loop (troupe.store.sqlite_inline). Another
process holding the database's write lock must make writes wait, not freeze the server,
and the writes go through once the lock is free."""

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, insert, select

from tests.server.helpers import make_agent
from tests.support.servers import ServerProcess
from troupe.ids import new_id
from troupe.store import Database
from troupe.store.inserts import execute_statements_now, insert_statements
from troupe.store.sqlite_inline import driver
from troupe.store.tables import BlockRow


def test_a_write_lock_held_elsewhere_delays_writes_and_the_server_keeps_answering(
    database_factory: Any, tmp_path: Path
) -> None:
    url = database_factory("sqlite")
    server = ServerProcess(url, tmp_path).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            agent = make_agent(http, model="test/echo")
            outsider = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
            outsider.execute("BEGIN IMMEDIATE")  # e.g. a sqlite3 shell mid-transaction
            answers: list[httpx.Response] = []
            sending = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        f"{server.url}/v1/agents/{agent['id']}/messages",
                        json={"messages": [{"role": "user", "content": "hello"}]},
                        timeout=60,
                    )
                )
            )
            sending.start()
            time.sleep(0.5)  # let the write reach the lock (it cannot finish while held)
            try:
                # While the write waits for the lock, reads are served (the loop is free).
                for _ in range(20):
                    assert http.get(f"/v1/agents/{agent['id']}", timeout=5).status_code == 200
                    assert http.get("/v1/health", timeout=5).status_code == 200
                assert sending.is_alive(), "the write should still be waiting for the lock"
            finally:
                outsider.execute("ROLLBACK")
                outsider.close()
            sending.join(timeout=60)
            assert answers[0].status_code == 200, answers[0].text
            history = http.get(f"/v1/agents/{agent['id']}/messages").json()
            assert [m["message_type"] for m in history][-2:] == [
                "user_message",
                "assistant_message",
            ]
    finally:
        server.stop()


async def test_write_now_waits_for_the_lock_and_for_the_writer_with_the_loop_free(
    database_factory: Any,
) -> None:
    """`Database.write_now` runs at once when the writer is free; when another process
    holds the lock, or a session of this one holds the writer, it waits (the loop runs on)
    and then commits."""
    url = database_factory("sqlite")
    db = Database(url)
    await db.migrate()
    stored: list[str] = []

    def add(label: str) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            execute_statements_now(connection, insert_statements([_block(label)]))
            return label

        return work

    async def labels() -> set[str]:
        async with db.read() as session:
            return set((await session.execute(select(BlockRow.label))).scalars())

    try:
        assert await db.write_now(add("free")) == "free"
        # The server's own SQLite library: two libraries in one process do not see each
        # other's locks (POSIX locks belong to the process).
        outsider = driver.connect(url.split(":///", 1)[1], isolation_level=None)
        outsider.execute("BEGIN IMMEDIATE")
        try:
            waiting = asyncio.create_task(db.write_now(add("after-the-lock")))
            for _ in range(10):  # the loop is free while the write waits
                await asyncio.sleep(0.01)
            assert not waiting.done()
        finally:
            outsider.execute("ROLLBACK")
            outsider.close()
        stored.append(await waiting)
        async with db.write() as session:  # holds the one writer connection
            await session.execute(insert(BlockRow).values(**_values("in-a-session")))
            queued = asyncio.create_task(db.write_now(add("after-the-session")))
            await asyncio.sleep(0.05)
            assert not queued.done()
        stored.append(await queued)
        assert stored == ["after-the-lock", "after-the-session"]
        assert {"free", "after-the-lock", "in-a-session", "after-the-session"} <= await labels()
    finally:
        await db.dispose()


def _values(label: str) -> dict[str, Any]:
    return {"id": new_id("block"), "label": label, "value": label, "char_limit": 100}


def _block(label: str) -> BlockRow:
    return BlockRow(**_values(label))
