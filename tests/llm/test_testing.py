"""The deterministic models that ship in troupe.llm.testing, resolved by handle."""

import json

import pytest

from troupe.llm.base import ChatMessage, ModelRequest
from troupe.llm.registry import resolve_model


def ask(*messages: ChatMessage) -> ModelRequest:
    return ModelRequest(messages=[ChatMessage("system", "You are a test."), *messages], tools=[])


async def test_scripted_follows_the_script_in_the_message_without_importing_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TROUPE_ENABLE_TEST_MODELS", raising=False)
    model = resolve_model("test/scripted")
    script = [
        {"tool": "core_memory_append", "args": {"label": "human", "content": "x"}},
        {"tool": "send_message", "args": {"message": "done"}},
    ]
    first = await model.complete(ask(ChatMessage("user", "SCRIPT: " + json.dumps(script))))
    call = first.tool_calls[0]
    assert call.name == "core_memory_append"
    assert json.loads(call.arguments) == {
        "label": "human",
        "content": "x",
        "request_heartbeat": True,
    }
    second = await model.complete(
        ask(
            ChatMessage("user", "SCRIPT: " + json.dumps(script)),
            ChatMessage("assistant", tool_calls=first.tool_calls),
            ChatMessage("tool", "ok", tool_call_id=call.id, name=call.name),
        )
    )
    assert json.loads(second.tool_calls[0].arguments) == {"message": "done"}


async def test_scripted_acknowledges_a_message_without_a_script() -> None:
    response = await resolve_model("test/scripted@1ms").complete(
        ask(ChatMessage("user", "hello\nworld"))
    )
    assert json.loads(response.tool_calls[0].arguments) == {"message": "ack: hello"}
