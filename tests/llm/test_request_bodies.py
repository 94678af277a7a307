"""The provider adapters build their request bodies themselves (llm/wire.py): the body must
be what the SDK's own `create` sends for the same request, and a step must convert only
the messages it has not sent before."""

import dataclasses
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from troupe.llm.anthropic import AnthropicModel
from troupe.llm.base import ChatMessage, ModelError, ModelRequest, ToolCall, ToolSpec, Usage
from troupe.llm.fake_server import FakeLLMServer
from troupe.llm.openai_compat import OpenAICompatibleModel
from troupe.llm.providers import Endpoint
from troupe.llm.wire import Converted

SEARCH = ToolSpec(
    "conversation_search",
    "Search past messages.",
    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)
CONVERSATION = [
    ChatMessage("system", "You are Ada's helper. Ünïcödé: 字"),
    ChatMessage("user", "hello"),
    ChatMessage(
        "assistant",
        "let me look",
        tool_calls=(ToolCall("call-1", "conversation_search", '{"query": "tea"}'),),
    ),
    ChatMessage("tool", "nothing found", tool_call_id="call-1", name="conversation_search"),
    ChatMessage(
        "assistant", None, tool_calls=(ToolCall("call-2", "send_message", '{"message": "hi"'),)
    ),
    ChatMessage("tool", None, tool_call_id="call-2", name="send_message"),
    ChatMessage("assistant", "a plain reply"),
    ChatMessage("system", "You must call a tool now."),
]
REQUEST = ModelRequest(
    CONVERSATION,
    [SEARCH],
    tool_choice="conversation_search",
    max_tokens=100,
    temperature=0.5,
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def _endpoint(provider: str, base_url: str) -> Endpoint:
    return Endpoint(provider, base_url, "sk-test", timeout_s=10, max_retries=0)


async def test_the_openai_body_is_what_the_sdks_create_sends(fake: FakeLLMServer) -> None:
    expected: dict[str, Any] = {
        "model": "gpt-fake",
        "messages": [
            {"role": "system", "content": "You are Ada's helper. Ünïcödé: 字"},
            {"role": "user", "content": "hello"},
            {
                "role": "assistant",
                "content": "let me look",
                "tool_calls": [
                    {
                        "id": "call-1",
                        "type": "function",
                        "function": {
                            "name": "conversation_search",
                            "arguments": '{"query": "tea"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call-1", "content": "nothing found"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call-2",
                        "type": "function",
                        "function": {"name": "send_message", "arguments": '{"message": "hi"'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call-2", "content": ""},
            {"role": "assistant", "content": "a plain reply"},
            {"role": "system", "content": "You must call a tool now."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": SEARCH.name,
                    "description": SEARCH.description,
                    "parameters": SEARCH.parameters,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "conversation_search"}},
        "max_tokens": 100,
        "temperature": 0.5,
    }
    fake.requests.clear()
    model = OpenAICompatibleModel(
        "openai/gpt-fake", "gpt-fake", _endpoint("openai", fake.openai_base_url)
    )
    response = await model.complete(REQUEST)
    assert response.tool_calls[0].name == "send_message"
    sdk = AsyncOpenAI(api_key="sk-test", base_url=fake.openai_base_url, max_retries=0)
    await sdk.chat.completions.create(**expected)
    ours, theirs = fake.requests
    assert ours == theirs == expected


async def test_the_anthropic_body_is_what_the_sdks_create_sends(fake: FakeLLMServer) -> None:
    text = {"type": "text", "text": "hello"}
    expected: dict[str, Any] = {
        "model": "claude-fake",
        "system": "You are Ada's helper. Ünïcödé: 字",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": [text]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "let me look"},
                    {
                        "type": "tool_use",
                        "id": "call-1",
                        "name": "conversation_search",
                        "input": {"query": "tea"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call-1", "content": "nothing found"}
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "call-2",
                        "name": "send_message",
                        "input": {"_unparsed_arguments": '{"message": "hi"'},
                    }
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call-2", "content": ""}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a plain reply"}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "[system notice] You must call a tool now."}],
            },
        ],
        "tools": [
            {"name": SEARCH.name, "description": SEARCH.description, "input_schema": SEARCH.parameters}
        ],
        "tool_choice": {"type": "tool", "name": "conversation_search"},
    }  # fmt: skip
    fake.requests.clear()
    model = AnthropicModel(
        "anthropic/claude-fake", "claude-fake", _endpoint("anthropic", fake.anthropic_base_url)
    )
    await model.complete(REQUEST)
    sdk = AsyncAnthropic(api_key="sk-test", base_url=fake.anthropic_base_url, max_retries=0)
    await sdk.messages.create(**expected)
    ours, theirs = fake.requests
    assert ours == theirs == expected


async def test_anthropic_turns_open_with_a_user_turn_and_merge_neighbours(
    fake: FakeLLMServer,
) -> None:
    fake.requests.clear()
    model = AnthropicModel("anthropic/c", "c", _endpoint("anthropic", fake.anthropic_base_url))
    await model.complete(
        ModelRequest(
            [ChatMessage("assistant", "I speak first"), ChatMessage("assistant", None)], []
        )
    )
    await model.complete(ModelRequest([ChatMessage("user", "a"), ChatMessage("user", "b")], []))
    first, second = fake.requests
    assert first["system"] == ""
    assert first["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "(conversation start)"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "I speak first"}]},
    ]
    assert second["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_a_step_converts_only_the_messages_not_sent_before(
    fake: FakeLLMServer, wire: str
) -> None:
    model: OpenAICompatibleModel | AnthropicModel
    if wire == "openai":
        model = OpenAICompatibleModel("openai/m", "m", _endpoint(wire, fake.openai_base_url))
        cache: Converted[Any, Any] = model._messages.converted
    else:
        model = AnthropicModel("anthropic/m", "m", _endpoint(wire, fake.anthropic_base_url))
        cache = model._turns.converted
    history = list(CONVERSATION[1:])
    await model.complete(ModelRequest([ChatMessage("system", "prompt"), *history], []))
    before = cache.conversions
    history.append(ChatMessage("user", "one more"))
    fake.requests.clear()
    await model.complete(ModelRequest([ChatMessage("system", "prompt v2"), *history], []))
    # The new message alone: the system prompt (rendered afresh at every step) is not kept.
    assert cache.conversions - before == 1
    sent = fake.requests[0]
    last = sent["messages"][-1]
    assert (last["content"] if wire == "openai" else last["content"][-1]["text"]) == "one more"
    # An equal new system prompt: not converted again, the same body sent.
    system = model._system._last  # the prompt of the step before, and its JSON
    await model.complete(ModelRequest([ChatMessage("system", "prompt v2"), *history], []))
    assert cache.conversions - before == 1
    assert fake.requests[1] == sent
    assert model._system._last is system


def test_the_conversion_cache_drops_the_least_recently_used_first() -> None:
    seen: list[str] = []

    def convert(message: ChatMessage) -> str:
        seen.append(message.content or "")
        return (message.content or "").upper()

    cache: Converted[ChatMessage, str] = Converted(convert, max_entries=2)
    a, b, c = (ChatMessage("user", x) for x in "abc")
    assert [cache(a), cache(b), cache(a), cache(c)] == ["A", "B", "A", "C"]
    assert len(cache) == 2
    cache(a)  # still held: used after b
    cache(b)  # dropped when c came: converted again
    assert seen == ["a", "b", "c", "b"]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_the_answer_is_read_from_its_json_as_the_sdk_would(
    fake: FakeLLMServer, wire: str
) -> None:
    """The adapters take the SDK's raw response and read the JSON themselves (no pydantic
    response model): text, tool call, usage and a provider's error all come through."""
    model: OpenAICompatibleModel | AnthropicModel
    if wire == "openai":
        endpoint = _endpoint("openai", fake.openai_base_url)
        model = OpenAICompatibleModel("openai/gpt-fake", "gpt-fake", endpoint)
    else:
        endpoint = _endpoint("anthropic", fake.anthropic_base_url)
        model = AnthropicModel("anthropic/claude-fake", "claude-fake", endpoint)
    fake.push(
        {"text": "let me look", "tool": "conversation_search", "arguments": {"query": "tea"}},
        {"status": 400},
    )
    answer = await model.complete(REQUEST)
    assert answer.content == "let me look"
    (call,) = answer.tool_calls
    assert call.name == "conversation_search"
    assert json.loads(call.arguments) == {"query": "tea"}
    assert call.id.startswith("call_" if wire == "openai" else "toolu_")
    assert answer.usage == Usage(11, 7)
    with pytest.raises(ModelError, match=r"answered HTTP 400: .*injected HTTP 400"):
        await model.complete(REQUEST)


def _random_message(rng: random.Random, n: int) -> ChatMessage:
    kind = rng.choice(["user", "assistant", "call", "tool", "notice", "empty"])
    if kind == "call":
        call = ToolCall(f"call-{n}", "send_message", f'{{"message": "m{n}"}}')
        return ChatMessage("assistant", rng.choice([None, f"thought {n}"]), tool_calls=(call,))
    if kind == "tool":
        return ChatMessage("tool", f"result {n}", tool_call_id=f"call-{n - 1}", name="x")
    if kind == "empty":  # no content blocks on Anthropic: it belongs to the turn before
        return ChatMessage("assistant", None)
    role = "system" if kind == "notice" else kind
    return ChatMessage(role, f"{kind} {n}")  # type: ignore[arg-type]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_a_history_extended_step_by_step_gives_the_body_built_afresh(wire: str) -> None:
    """The pieces of the request before are reused (llm/wire.py: Pieces) whatever changes
    between steps: messages appended, the newest ones replaced by equal new objects (the
    step's input once stored), the oldest dropped under a new summary, a new system prompt;
    every body is byte for byte the one a fresh adapter builds."""

    def make() -> OpenAICompatibleModel | AnthropicModel:
        endpoint = _endpoint(wire, "http://127.0.0.1:9/v1")
        if wire == "openai":
            return OpenAICompatibleModel("openai/m", "m", endpoint)
        return AnthropicModel("anthropic/m", "m", endpoint)

    rng = random.Random(20)
    model = make()
    history: list[ChatMessage] = []
    for step in range(300):
        action = rng.random()
        if action < 0.2 and history:  # the newest messages again, as new equal objects
            k = rng.randint(1, min(3, len(history)))
            history[-k:] = [dataclasses.replace(m) for m in history[-k:]]
        elif action < 0.25 and len(history) > 4:  # a summary replaces the oldest
            history = [ChatMessage("user", f"summary {step}"), *history[rng.randint(1, 4) :]]
        history += [_random_message(rng, step * 10 + i) for i in range(rng.randint(0, 3))]
        request = ModelRequest([ChatMessage("system", f"prompt {step % 3}"), *history], [])
        assert model._body(request) == make()._body(request), f"step {step}"
    pieces = model._messages if isinstance(model, OpenAICompatibleModel) else model._turns
    assert pieces.reused > 10 * len(history)  # most of each body came from the step before
