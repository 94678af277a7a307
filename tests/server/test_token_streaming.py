"""Token streaming (`stream_tokens`): over the real OpenAI-compatible and Anthropic adapters,
against the fake provider streaming real SSE, read with both official SDK lines. Each
message comes in several pieces with its stored id, adding up to what is stored."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, wait_for
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess, fake_provider_env
from troupe.llm.fake_server import FakeLLMServer

MODELS = {"openai": "openai/gpt-fake", "anthropic": "anthropic/claude-fake"}
THOUGHT = "The user greets me; I should answer warmly."
REPLY = 'Hello there! "Quoted", accented é, and a smile 😀 over several pieces.'


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def provider_server(
    request: pytest.FixtureRequest,
    fake: FakeLLMServer,
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    env = fake_provider_env(fake, max_retries=1, timeout_s=10)
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("t"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(provider_server: ServerProcess, fake: FakeLLMServer) -> Iterator[httpx.Client]:
    fake.queue.clear()
    fake.requests.clear()
    with httpx.Client(base_url=provider_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def sdk(provider_server: ServerProcess) -> Any:
    from letta_client import Letta

    return Letta(base_url=provider_server.url, timeout=60)


def history(api: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/agents/{agent_id}/messages", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [m for m in response.json() if m["message_type"] != "system_message"]


def by_id(chunks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The message chunks of a stream by message id, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunks:
        if chunk.get("id") and chunk.get("message_type", "").endswith("_message"):
            found.setdefault(chunk["id"], []).append(chunk)
    return found


def text_of(chunks: list[dict[str, Any]]) -> str:
    kind = chunks[0]["message_type"]
    if kind == "reasoning_message":
        return "".join(c["reasoning"] for c in chunks)
    if kind == "assistant_message":
        return "".join(c["content"] for c in chunks)
    return "".join(c["tool_call"]["arguments"] or "" for c in chunks)


def stored_text(message: dict[str, Any]) -> str:
    kind = message["message_type"]
    if kind == "reasoning_message":
        return str(message["reasoning"])
    if kind == "assistant_message":
        return str(message["content"])
    return str(message["tool_call"]["arguments"])


def sdk_stream(sdk: Any, agent_id: str, text: str, **extra: Any) -> list[dict[str, Any]]:
    """A streamed turn read with letta-client 1.x (`create(streaming=True)`; `stream` is
    deprecated), each chunk as the JSON it parsed."""
    stream = sdk.agents.messages.create(
        agent_id=agent_id, messages=[{"role": "user", "content": text}], streaming=True, **extra
    )
    return [chunk.model_dump(mode="json") for chunk in stream]


def raw_stream(
    api: httpx.Client, agent_id: str, text: str, into: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """A streamed turn with `stream_tokens`, read over HTTP, each event as it comes."""
    body = {"messages": [{"role": "user", "content": text}], "stream_tokens": True}
    events = [] if into is None else into
    with api.stream("POST", f"/v1/agents/{agent_id}/messages/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line.removeprefix("data: ")))
    return events


def ending(chunks: list[dict[str, Any]]) -> str:
    return next(c["stop_reason"] for c in chunks if c.get("message_type") == "stop_reason")


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_each_message_streams_in_pieces_with_its_stored_id(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer, vendor: str
) -> None:
    agent = make_agent(api, model=MODELS[vendor])
    arguments = {"query": "greetings", "request_heartbeat": True}
    fake.push(
        {"text": "Let me look first.", "tool": "conversation_search", "arguments": arguments},
        {"text": THOUGHT, "tool": "send_message", "arguments": {"message": REPLY}},
    )
    chunks = sdk_stream(sdk, agent["id"], "hello", stream_tokens=True)
    assert ending(chunks) == "end_turn", chunks
    assert all(request["stream"] is True for request in fake.requests)
    if vendor == "openai":
        assert fake.requests[0]["stream_options"] == {"include_usage": True}
    usage = next(c for c in chunks if c.get("message_type") == "usage_statistics")
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["step_count"]) == (22, 14, 2)

    streamed = by_id(chunks)
    stored = history(api, agent["id"])
    kinds = [m["message_type"] for m in stored]
    assert kinds == [
        "user_message",
        "reasoning_message",
        "tool_call_message",
        "tool_return_message",
        "reasoning_message",
        "assistant_message",
    ]
    for message in stored[1:]:
        pieces = streamed[message["id"]]  # every produced message, under its stored id
        assert {p["message_type"] for p in pieces} == {message["message_type"]}
        if message["message_type"] == "tool_return_message":
            assert len(pieces) == 1  # a tool's result comes whole, after the step
            continue
        assert len(pieces) >= 3, message["message_type"]
        assert {p["otid"] for p in pieces} == {message["otid"]}
        assert {p["step_id"] for p in pieces} == {message["step_id"]}
        if message["message_type"] == "tool_call_message":
            assert pieces[0]["tool_call"]["name"] == "conversation_search"
            assert all(p["tool_call"]["name"] is None for p in pieces[1:])
            assert json.loads(text_of(pieces)) == arguments  # Anthropic's: the same JSON
            if vendor == "openai":
                assert text_of(pieces) == stored_text(message)
        else:
            assert text_of(pieces) == stored_text(message)
    assert stored[-1]["content"] == REPLY
    assert len(streamed) == 5  # no message twice, none left out


def test_without_stream_tokens_the_steps_come_whole_and_nothing_streams_from_the_provider(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer
) -> None:
    agent = make_agent(api, model=MODELS["openai"])
    fake.push({"text": THOUGHT, "tool": "send_message", "arguments": {"message": REPLY}})
    chunks = sdk_stream(sdk, agent["id"], "hello")
    kinds = [c["message_type"] for c in chunks]
    assert kinds == ["reasoning_message", "assistant_message", "stop_reason", "usage_statistics"]
    assert "stream" not in fake.requests[0]
    assert chunks[1]["content"] == REPLY
    assert [m["id"] for m in history(api, agent["id"])[1:]] == [c["id"] for c in chunks[:2]]


def test_an_agent_without_a_reply_tool_streams_its_plain_answer_as_the_assistant_message(
    api: httpx.Client, fake: FakeLLMServer
) -> None:
    agent = make_agent(api, model=MODELS["anthropic"], include_base_tools=False, tools=[])
    fake.push({"text": REPLY})
    chunks = raw_stream(api, agent["id"], "hi")
    pieces = [c for c in chunks if c.get("message_type") == "assistant_message"]
    assert len(pieces) >= 3
    assert len({p["id"] for p in pieces}) == 1
    stored = history(api, agent["id"])
    assert stored[-1]["message_type"] == "assistant_message"
    assert (stored[-1]["id"], stored[-1]["content"]) == (pieces[0]["id"], REPLY)


def test_the_legacy_sdk_reads_the_pieces(
    provider_server: ServerProcess, api: httpx.Client, fake: FakeLLMServer
) -> None:
    legacy = legacy_sdk().Letta(base_url=provider_server.url)
    agent = make_agent(api, model=MODELS["openai"])
    fake.push(
        {"tool": "conversation_search", "arguments": {"query": "q", "request_heartbeat": True}},
        {"tool": "send_message", "arguments": {"message": REPLY}},
    )
    stream = legacy.agents.messages.create_stream(
        agent_id=agent["id"],
        messages=[{"role": "user", "content": "hi"}],
        stream_tokens=True,
    )
    chunks = list(stream)
    calls = [c for c in chunks if getattr(c, "message_type", None) == "tool_call_message"]
    assert len(calls) >= 3
    assert json.loads("".join(c.tool_call.arguments or "" for c in calls))["query"] == "q"
    said = [c for c in chunks if getattr(c, "message_type", None) == "assistant_message"]
    assert len(said) >= 3
    assert "".join(c.content for c in said) == REPLY
    assert chunks[-2].stop_reason == "end_turn"


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_cancel_midway_through_a_token_stream(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer, vendor: str
) -> None:
    agent = make_agent(api, model=MODELS[vendor])
    arguments = {"message": REPLY}
    fake.push({"stall": True, "text": THOUGHT * 4, "tool": "send_message", "arguments": arguments})
    chunks: list[dict[str, Any]] = []
    reader = threading.Thread(target=raw_stream, args=(api, agent["id"], "hi", chunks))
    reader.start()
    try:
        assert fake.stalled.wait(30), "the provider's stream never began"
        first = wait_for(lambda: [c for c in chunks if c.get("run_id")], "the first pieces")
        run_id = first[0]["run_id"]
        assert sdk.agents.messages.cancel(agent["id"], run_ids=[run_id]) == {run_id: "cancelled"}
        wait_for(lambda: any(c.get("message_type") == "stop_reason" for c in chunks), "the end")
    finally:
        fake.resume.set()
        reader.join(30)
    assert ending(chunks) == "cancelled"
    pieces = [c for c in chunks if c.get("message_type") == "reasoning_message"]
    assert len(pieces) >= 2
    assert (THOUGHT * 4).startswith("".join(p["reasoning"] for p in pieces))
    assert not [c for c in chunks if c.get("message_type") == "assistant_message"]
    run = api.get(f"/v1/runs/{run_id}").json()
    assert (run["status"], run["stop_reason"]) == ("cancelled", "cancelled")
    assert [m["message_type"] for m in history(api, agent["id"])] == ["user_message"]


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", ["break_after", "error_after"])
def test_a_provider_failing_midway_ends_the_turn_as_a_failed_call(
    api: httpx.Client, fake: FakeLLMServer, vendor: str, fault: str
) -> None:
    agent = make_agent(api, model=MODELS[vendor])
    fake.push({"text": THOUGHT, "tool": "send_message", "arguments": {"message": REPLY}, fault: 6})
    chunks = raw_stream(api, agent["id"], "hi")
    assert len([c for c in chunks if c.get("message_type") == "reasoning_message"]) >= 1
    error = next(c for c in chunks if c.get("message_type") == "error_message")
    assert MODELS[vendor] in error["message"]
    assert "midway" in error["message"]
    assert ending(chunks) == "llm_api_error"
    assert len(fake.requests) == 1  # what broke off midway is not sent again
    assert [m["message_type"] for m in history(api, agent["id"])] == ["user_message"]


def test_a_conversation_streams_tokens_too(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer
) -> None:
    agent = make_agent(api, model=MODELS["openai"])
    conversation = sdk.conversations.create(agent_id=agent["id"])
    fake.push({"text": THOUGHT, "tool": "send_message", "arguments": {"message": REPLY}})
    stream = sdk.conversations.messages.create(
        conversation.id, messages=[{"role": "user", "content": "hi"}], stream_tokens=True
    )
    chunks = [chunk.model_dump(mode="json") for chunk in stream]
    said = [c for c in chunks if c.get("message_type") == "assistant_message"]
    assert len(said) >= 3
    assert "".join(c["content"] for c in said) == REPLY
    stored = sdk.conversations.messages.list(conversation.id)
    replies = [m for m in stored if m.message_type == "assistant_message"]
    assert [m.id for m in replies] == [said[0]["id"]]


def test_a_background_stream_asked_for_tokens_says_it_sends_whole_messages(
    api: httpx.Client, sdk: Any, fake: FakeLLMServer
) -> None:
    """A background stream is read back from the store, which holds whole messages: it
    sends the reply whole, with its seq id, and says so in a header, never silently."""
    agent = make_agent(api, model=MODELS["openai"])
    fake.push({"text": THOUGHT, "tool": "send_message", "arguments": {"message": REPLY}})
    body = {"input": "hello", "stream_tokens": True, "background": True}
    with api.stream("POST", f"/v1/agents/{agent['id']}/messages/stream", json=body) as response:
        assert response.headers["x-troupe-stream-tokens"] == "whole-messages"
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    events = [json.loads(line.removeprefix("data: ")) for line in lines]
    replies = [e for e in events if e["message_type"] == "assistant_message"]
    assert [r["content"] for r in replies] == [REPLY]
    resumed = list(sdk.runs.messages.stream(replies[0]["run_id"], starting_after=0))
    stored = [e["seq_id"] for e in events if e["message_type"] != "ping"]
    assert [e.seq_id for e in resumed if e.message_type != "ping"] == stored
    fake.push({"tool": "send_message", "arguments": {"message": REPLY}})
    foreground = {"input": "again", "stream_tokens": True}
    with api.stream("POST", f"/v1/agents/{agent['id']}/messages/stream", json=foreground) as r:
        assert "x-troupe-stream-tokens" not in r.headers
        r.read()
