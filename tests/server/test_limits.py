"""Bounded waits: a target that never answers, and chains longer than the hop limit."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import ServerProcess

ASK = "send_message_to_agent_and_wait_for_reply"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def strict_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {"TROUPE_REPLY_TIMEOUT": "1", "TROUPE_MAX_HOPS": "2"}
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
    assert answer["tool_return"].startswith(f"no reply from {sleeper['name']}")
    assert "within 1 s" in answer["tool_return"]
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
    assert strict.get(f"/v1/agents/{c['id']}/messages").json() == []
