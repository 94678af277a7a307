"""Keepalive pings (`include_pings`, on by default as in Letta) on foreground streams: an
agent's and a conversation's, step streams and token streams, read with both SDK lines. A
server of its own sends them after 0.2 s of quiet (`TROUPE_STREAM_PING_INTERVAL`), so a model
that pauses a second is enough to need them."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess, fake_provider_env
from troupe.agent.turn import TurnResult
from troupe.llm.fake_server import FakeLLMServer
from troupe.services.messages import turn_events
from troupe.services.pings import Ping

PING_S = 0.2
PAUSE_MS = 1200  # the model's silence: several ping intervals
REPLY = "A reply long enough to come in many pieces, each a few characters of it."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pinging_server(
    request: pytest.FixtureRequest,
    fake: FakeLLMServer,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    env = {**fake_provider_env(fake, max_retries=1, timeout_s=30)}
    env["TROUPE_STREAM_PING_INTERVAL"] = str(PING_S)
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("p"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(pinging_server: ServerProcess, fake: FakeLLMServer) -> Iterator[httpx.Client]:
    fake.queue.clear()
    fake.resume.clear()
    with httpx.Client(base_url=pinging_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def sdk(pinging_server: ServerProcess) -> Any:
    from letta_client import Letta

    return Letta(base_url=pinging_server.url, timeout=60)


def kinds(events: list[Any]) -> list[str]:
    return [e.message_type for e in events]


def quiet_agent(api: httpx.Client) -> dict[str, Any]:
    return make_agent(api, model=f"test/scripted@{PAUSE_MS}ms")


def check_pings(events: list[Any], elapsed_s: float) -> None:
    """Pings while the model was silent, at most one an interval, each Letta's shape, and
    none after the stream's last message."""
    pings = [e for e in events if e.message_type == "ping"]
    assert len(pings) >= 2, kinds(events)
    assert len(pings) <= elapsed_s / PING_S + 1, (len(pings), elapsed_s)
    assert all(p.id.startswith("ping-") and p.date is not None and p.run_id for p in pings)
    assert len({p.id for p in pings}) == len(pings)
    last_ping = max(i for i, e in enumerate(events) if e.message_type == "ping")
    assert kinds(events)[last_ping + 1 :] == [
        "assistant_message",
        "stop_reason",
        "usage_statistics",
    ]


def test_a_step_stream_pings_while_the_model_is_silent(api: httpx.Client, sdk: Any) -> None:
    agent = quiet_agent(api)
    started = time.monotonic()
    events = list(sdk.agents.messages.stream(agent["id"], input="hi", include_pings=True))
    check_pings(events, time.monotonic() - started)
    assert {p.run_id for p in events if p.message_type == "ping"} == {events[-3].run_id}


def test_pings_are_on_by_default_and_off_when_refused(api: httpx.Client, sdk: Any) -> None:
    agent = quiet_agent(api)
    started = time.monotonic()
    by_default = list(sdk.agents.messages.stream(agent["id"], input="hi"))
    check_pings(by_default, time.monotonic() - started)
    refused = list(sdk.agents.messages.stream(agent["id"], input="hi", include_pings=False))
    assert kinds(refused) == ["assistant_message", "stop_reason", "usage_statistics"]


def test_a_token_stream_pings_between_pieces_without_reordering_them(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer
) -> None:
    """The provider stalls half-way through its answer: pings go out while it is silent,
    between the pieces, which still add up to the stored reply."""
    agent = make_agent(api, model="openai/gpt-fake")
    fake.push({"tool": "send_message", "arguments": {"message": REPLY}, "stall": True})
    stream = sdk.agents.messages.stream(
        agent["id"], input="hi", include_pings=True, stream_tokens=True
    )
    events: list[Any] = []
    for event in stream:
        events.append(event)
        if kinds(events).count("ping") == 3:
            fake.resume.set()  # the provider goes on after three pings
    pieces = [e for e in events if e.message_type == "assistant_message"]
    first_ping = kinds(events).index("ping")
    assert 0 < first_ping < kinds(events).index("stop_reason")
    assert any(e.message_type == "assistant_message" for e in events[first_ping:])
    assert "".join(p.content for p in pieces) == REPLY
    assert len({p.id for p in pieces}) == 1
    (stored,) = [
        m
        for m in api.get(f"/v1/agents/{agent['id']}/messages").json()
        if m["message_type"] == "assistant_message"
    ]
    assert (stored["id"], stored["content"]) == (pieces[0].id, REPLY)


def test_a_conversation_stream_pings(api: httpx.Client, sdk: Any) -> None:
    agent = quiet_agent(api)
    conversation = sdk.conversations.create(agent_id=agent["id"])
    started = time.monotonic()
    stream = sdk.conversations.messages.create(conversation.id, input="hi", include_pings=True)
    check_pings(list(stream), time.monotonic() - started)


def test_the_legacy_sdk_reads_a_stream_with_pings(api: httpx.Client) -> None:
    """0.1.x's `create_stream` sends no `include_pings`, so it gets Letta's default: pings,
    which it reads past without failing."""
    agent = quiet_agent(api)
    legacy = legacy_sdk().Letta(base_url=str(api.base_url))
    events = list(
        legacy.agents.messages.create_stream(
            agent["id"], messages=[{"role": "user", "content": "hi"}]
        )
    )
    assert [getattr(e, "message_type", None) for e in events].count("ping") >= 2
    assert any(getattr(e, "message_type", None) == "assistant_message" for e in events)


def test_a_busy_stream_sends_no_ping(api: httpx.Client, sdk: Any) -> None:
    """Steps quicker than the interval: every event comes sooner than a ping would."""
    steps = [{"tool": "conversation_search", "args": {"query": f"q{i}"}} for i in range(4)]
    agent = make_agent(api, model="test/scripted@20ms")
    text = script(*steps, {"tool": "send_message", "args": {"message": "done"}})
    events = list(sdk.agents.messages.stream(agent["id"], input=text, include_pings=True))
    assert "ping" not in kinds(events)
    assert kinds(events)[-3:] == ["assistant_message", "stop_reason", "usage_statistics"]


async def test_a_stream_whose_client_left_stops_pinging() -> None:
    """The stream's generator is closed when its client goes (or the turn ends): its timer
    is disarmed, and nothing more is put on the turn's queue."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    never: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
    events = turn_events(queue, never, "run-1", None, ping_every_s=0.02)  # type: ignore[arg-type]
    assert await anext(events) == Ping("run-1")
    await events.aclose()
    await asyncio.sleep(0.1)
    assert queue.empty()
    never.cancel()
