"""What a message costs before its model call (runs.executor `open_run`): with its
history's lock free, the run is recorded and the turn's start read in one transaction;
with the lock held by another turn, the message waits for it and reads its start after.
Either way the turn sees every message stored before it. Through letta-client 1.12.1 and
plain HTTP, on SQLite and PostgreSQL (whose cross-process lock always takes the second
way)."""

import concurrent.futures
import time
from typing import Any

import httpx
from letta_client import Letta

from tests.server.helpers import unique

# Replies with the user messages it was shown, oldest first, joined by " | ".
TRANSCRIPT = "test/function:tests.support.models:transcript"


def _reply(response: Any) -> str:
    return next(m for m in response["messages"] if m["message_type"] == "assistant_message")[
        "content"
    ]


def _runs(http: httpx.Client, agent_id: str, **params: Any) -> list[dict[str, Any]]:
    found = http.get("/v1/runs/", params={"agent_ids": agent_id, "limit": 100, **params})
    assert found.status_code == 200, found.text
    return list(found.json())


def test_a_message_sees_the_turn_it_waited_for_and_the_next_one_sees_both(
    client: Letta, http: httpx.Client
) -> None:
    agent = client.agents.create(name=unique("opening"), model=f"{TRANSCRIPT}@600ms")
    url = f"/v1/agents/{agent.id}/messages"

    def post(text: str) -> dict[str, Any]:
        response = http.post(url, json={"messages": [{"role": "user", "content": text}]})
        assert response.status_code == 200, response.text
        return dict(response.json())

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, "first")
        deadline = time.monotonic() + 10
        while not _runs(http, agent.id, active="true"):  # the first turn holds the lock
            assert time.monotonic() < deadline, "the first turn never started"
            time.sleep(0.01)
        second = post("second")  # waits for the first turn, then reads its start
        assert _reply(first.result()) == "first"
    assert _reply(second) == "first | second"
    runs = {run["id"]: run for run in _runs(http, agent.id)}
    waited, ran = runs[second["run_id"]], runs[first.result()["run_id"]]
    assert waited["created_at"] < ran["completed_at"]  # recorded while the first ran

    # The lock free: recorded and started in one transaction, seeing both turns.
    assert _reply(post("third")) == "first | second | third"
    with client.agents.messages.stream(agent.id, input="fourth") as events:
        said = [e.content for e in events if getattr(e, "message_type", "") == "assistant_message"]
    assert said == ["first | second | third | fourth"]
    stored = client.agents.messages.list(agent.id, limit=100).items
    users = [m.content for m in stored if m.message_type == "user_message"]
    assert users == ["first", "second", "third", "fourth"]
    assert all(run["status"] == "completed" for run in _runs(http, agent.id))
