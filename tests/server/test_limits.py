"""Bounded waits: a target that never answers, chains longer than the hop limit, an agent
busy past the queue timeout, and a server past its limit of requests in progress."""

import ast
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import ServerProcess

ASK = "send_message_to_agent_and_wait_for_reply"
IN_FLIGHT = 6
SLOW = "test/echo@3000ms"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def strict_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {
        "TROUPE_REPLY_TIMEOUT": "1",
        "TROUPE_MAX_HOPS": "2",
        "TROUPE_AGENT_QUEUE_TIMEOUT": "1",
        "TROUPE_MAX_REQUESTS_IN_FLIGHT": str(IN_FLIGHT),
    }
    server = ServerProcess(
        database_factory(request.param), tmp_path_factory.mktemp("strict"), env=env
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def strict(strict_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict_server.url, timeout=60) as client:
        yield client


def test_a_target_that_never_replies_hits_the_timeout(strict: httpx.Client) -> None:
    asker = make_agent(strict, tools=[ASK])
    sleeper = make_agent(strict, model="test/echo@3000ms")
    result = send(
        strict,
        asker["id"],
        script(
            {"tool": ASK, "args": {"message": "hello?", "other_agent_id": sleeper["id"]}},
            {"tool": "send_message", "args": {"message": "moving on"}},
        ),
    )
    answer = of_type(result, "tool_return_message")[0]
    assert answer["status"] == "error"
    entry = ast.literal_eval(answer["tool_return"])
    assert entry["agent_id"] == sleeper["id"]
    assert entry["error"].startswith(f"no reply from {sleeper['name']}")
    assert "within 1 s" in entry["error"]
    assert of_type(result, "assistant_message")[0]["content"] == "moving on"


def test_a_chain_longer_than_the_hop_limit_is_refused(strict: httpx.Client) -> None:
    a, b, c = (make_agent(strict, tools=[ASK]) for _ in range(3))
    to_c = script({"tool": ASK, "args": {"message": "hi", "other_agent_id": c["id"]}})
    send(
        strict, a["id"], script({"tool": ASK, "args": {"message": to_c, "other_agent_id": b["id"]}})
    )
    history = strict.get(f"/v1/agents/{b['id']}/messages").json()
    refusal = json.loads(
        next(m for m in history if m["message_type"] == "tool_return_message")["tool_return"]
    )
    assert refusal["error"] == "hop_limit"
    untouched = strict.get(f"/v1/agents/{c['id']}/messages").json()
    assert [m["message_type"] for m in untouched] == ["system_message"]  # the head only


def _in_background(http: httpx.Client, agent_id: str, text: str) -> threading.Thread:
    thread = threading.Thread(target=send, args=(http, agent_id, text), daemon=True)
    thread.start()
    return thread


def _texts(http: httpx.Client, agent_id: str) -> list[str]:
    history = http.get(f"/v1/agents/{agent_id}/messages").json()
    return [m["content"] for m in history if m["message_type"] == "user_message"]


def _wait_until_busy(http: httpx.Client, agent_id: str) -> None:
    """Until the agent's turn runs, or the server is full (a 503 for asking, which only
    the request limit gives here)."""
    deadline = time.monotonic() + 120  # a guard against a turn that never starts
    while time.monotonic() < deadline:
        runs = http.get("/v1/runs/", params={"agent_id": agent_id, "status": "running"})
        if runs.status_code == 503 or runs.json():
            return
        time.sleep(0.05)
    raise AssertionError("the first message never started")


def test_an_agent_busy_past_the_queue_timeout_answers_503_with_retry_after(
    strict: httpx.Client,
) -> None:
    """Was a 400 (the busy error had no status of its own): the request was fine, the agent
    was busy, and the client should retry."""
    sleeper = make_agent(strict, model=SLOW)
    first = _in_background(strict, sleeper["id"], "first")
    _wait_until_busy(strict, sleeper["id"])
    time.sleep(0.5)  # its run is recorded just before it takes the agent's turn
    refused = strict.post(
        f"/v1/agents/{sleeper['id']}/messages",
        json={"messages": [{"role": "user", "content": "second"}]},
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert "stayed busy for 1 s" in refused.json()["detail"]
    assert "TROUPE_AGENT_QUEUE_TIMEOUT" in refused.json()["detail"]
    first.join(timeout=30)
    assert _texts(strict, sleeper["id"]) == ["first"], "the refused message was not kept"


def test_past_the_request_limit_requests_get_503_at_once_and_health_still_answers(
    strict: httpx.Client,
) -> None:
    sleepers = [make_agent(strict, model=SLOW) for _ in range(IN_FLIGHT)]
    busy = []
    for sleeper in sleepers:  # one at a time, so the polling never takes a place of theirs
        busy.append(_in_background(strict, sleeper["id"], "hold a place"))
        _wait_until_busy(strict, sleeper["id"])
    refused = strict.post("/v1/blocks/", json={"label": "over-the-limit", "value": "v"})
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert "TROUPE_MAX_REQUESTS_IN_FLIGHT" in refused.json()["detail"]
    assert strict.get("/v1/health/").status_code == 200
    for thread in busy:
        thread.join(timeout=30)
    assert all(_texts(strict, s["id"]) == ["hold a place"] for s in sleepers)
    assert strict.get("/v1/blocks/", params={"label": "over-the-limit"}).json() == []
    assert strict.post("/v1/blocks/", json={"label": "after", "value": "v"}).status_code == 200
