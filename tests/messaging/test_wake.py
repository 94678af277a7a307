"""An async cross-agent send wakes the mailbox's dispatcher as soon as the sender's step
commits, on both backends: with the dispatcher's poll set to an hour, messages are delivered
anyway. (On SQLite they used to wait for the poll.)"""

import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script, send
from tests.support.servers import ServerProcess

ASYNC_TOOL = "send_message_to_agent_async"


def _received(http: httpx.Client, agent_id: str, word: str) -> bool:
    history = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000}).json()
    return any(m["message_type"] == "system_message" and word in m["content"] for m in history)


def _eventually(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_async_sends_are_delivered_without_waiting_for_the_mailbox_poll(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    server = ServerProcess(
        database_factory(backend), tmp_path, env={"TROUPE_MAILBOX_POLL": "3600"}
    ).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            receiver = make_agent(http, model="test/echo")
            sender = make_agent(http, tools=[ASYNC_TOOL])
            # Two sends, one after the other: each commit wakes the dispatcher anew.
            for word in ("first", "second"):
                call = {"message": word, "other_agent_id": receiver["id"]}
                send(http, sender["id"], script({"tool": ASYNC_TOOL, "args": call}))
                assert _eventually(partial(_received, http, receiver["id"], word)), word
    finally:
        server.stop()
