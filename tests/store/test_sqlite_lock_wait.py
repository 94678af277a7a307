"""SQLite statements run on the server's event loop (troupe.store.sqlite_inline). Another
process holding the database's write lock must make writes wait, not freeze the server,
and the writes go through once the lock is free."""

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.server.helpers import make_agent
from tests.support.servers import ServerProcess


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
