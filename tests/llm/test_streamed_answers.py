"""Token streaming at the adapters: an answer streamed by the fake provider in each vendor's
SSE format gives the same `ModelResponse` as the same answer whole, its pieces adding up to
it; and the parsers under it (SSE events, a reply's `message` as its JSON arrives)."""

import dataclasses
import json
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from troupe.agent.reply_text import ReplyText
from troupe.llm.anthropic import AnthropicModel
from troupe.llm.base import ChatMessage, Delta, ModelRequest, ModelResponse, ToolSpec
from troupe.llm.fake_server import FakeLLMServer
from troupe.llm.openai_compat import OpenAICompatibleModel
from troupe.llm.providers import Endpoint
from troupe.llm.sse_events import Event, sse_events

REQUEST = ModelRequest(
    messages=[ChatMessage("system", "You are terse."), ChatMessage("user", "hi")],
    tools=[ToolSpec("send_message", "Reply.", {"type": "object", "properties": {}})],
)
ANSWERS = [
    {"text": "Just text, in several pieces."},
    {"reasoning": "Think first.", "text": "Then answer."},
    {"text": "A thought.", "tool": "send_message", "arguments": {"message": 'Hi 😀 "x"\n'}},
    {"reasoning": "Hidden.", "tool": "send_message", "arguments": {"message": "é"}},
    {"text": "cut short, mid-sent", "cut": True},
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def _model(vendor: str, fake: FakeLLMServer) -> OpenAICompatibleModel | AnthropicModel:
    if vendor == "openai":
        endpoint = Endpoint("openai", fake.openai_base_url, "sk-test", timeout_s=10, max_retries=0)
        return OpenAICompatibleModel("openai/m", "m", endpoint)
    endpoint = Endpoint("anthropic", fake.anthropic_base_url, "sk", timeout_s=10, max_retries=0)
    return AnthropicModel("anthropic/m", "m", endpoint)


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
@pytest.mark.parametrize("answer", ANSWERS)
async def test_a_streamed_answer_reads_as_the_same_answer_whole(
    fake: FakeLLMServer, vendor: str, answer: dict[str, Any]
) -> None:
    model = _model(vendor, fake)
    fake.requests.clear()
    fake.push(answer, answer)
    whole = await model.complete(REQUEST)
    deltas: list[Delta] = []

    async def sink(delta: Delta) -> None:
        deltas.append(delta)

    streamed = await model.complete_streaming(REQUEST, sink)
    assert _without_call_ids(streamed) == _without_call_ids(whole)  # the fake draws new ids
    plain, asked = fake.requests
    assert asked.pop("stream") is True
    if vendor == "openai":
        assert asked.pop("stream_options") == {"include_usage": True}
    assert asked == plain  # the same request, asked to stream
    assert "".join(d.text for d in deltas if d.kind == "content") == (whole.content or "")
    assert "".join(d.text for d in deltas if d.kind == "reasoning") == (whole.reasoning or "")
    if whole.tool_calls:
        arguments = "".join(d.text for d in deltas if d.kind == "arguments")
        assert json.loads(arguments) == json.loads(whole.tool_calls[0].arguments)
        first = next(d for d in deltas if d.kind == "arguments")
        assert (first.call_id, first.name) == (streamed.tool_calls[0].id, "send_message")
    assert len(deltas) >= 3


def _without_call_ids(response: ModelResponse) -> ModelResponse:
    calls = tuple(dataclasses.replace(call, id="") for call in response.tool_calls)
    return dataclasses.replace(response, tool_calls=calls)


async def test_the_sse_parser_reads_events_however_the_bytes_are_cut() -> None:
    text = 'event: one\r\ndata: {"a": "é"}\r\n\r\n: a comment\n\ndata: x\ndata: y\n\ndata: z'
    body = text.encode()
    expected = [Event("one", '{"a": "é"}'), Event("message", "x\ny")]  # z never ended
    for cut in range(len(body)):

        async def chunks(cut: int = cut) -> AsyncIterator[bytes]:
            yield body[:cut]
            yield body[cut:]

        assert [event async for event in sse_events(chunks())] == expected


@pytest.mark.parametrize(
    "arguments",
    [
        {"message": 'Hi "there"\n\té 😀😀 back\\slash \\u0041', "request_heartbeat": False},
        {"request_heartbeat": True, "inner": {"message": "no"}, "message": "yes"},
        {"message": 5},
        {"other": "x"},
        {"message": ""},
    ],
)
def test_the_reply_text_is_given_as_its_json_arrives(arguments: dict[str, Any]) -> None:
    expected = arguments.get("message") if isinstance(arguments.get("message"), str) else ""
    randomly = random.Random(7)
    for ascii_only in (True, False):
        text = json.dumps(arguments, ensure_ascii=ascii_only)
        for _ in range(100):
            reader, given, at = ReplyText(), "", 0
            while at < len(text):
                size = randomly.randint(1, 5)
                given += reader.feed(text[at : at + size])
                at += size
            assert given == expected
