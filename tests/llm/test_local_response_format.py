"""`response_format` on the embedded model: the answer is grammar-constrained to the schema,
so it always parses: the reply tool's message (Letta's assistant message) when tools are
offered, the plain answer when none is."""

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.llm.test_local_model import request, spec, user
from troupe.llm.base import ModelRequest
from troupe.llm.local.model import LocalModel

pytestmark = pytest.mark.slow

RANKING = {
    "type": "object",
    "properties": {
        "rank": {"type": "integer"},
        "verdict": {"type": "string", "enum": ["good", "bad"]},
        "reason": {"type": "string"},
    },
    "required": ["rank", "verdict", "reason"],
}
AS_SCHEMA = {"type": "json_schema", "json_schema": {"name": "ranking", "schema": RANKING}}


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel("local/smollm2-135m")


def formatted(base: ModelRequest, response_format: dict[str, Any]) -> ModelRequest:
    return replace(base, response_format=response_format)


def assert_ranking(value: Any) -> None:
    assert isinstance(value, dict)
    assert set(value) == {"rank", "verdict", "reason"}
    assert isinstance(value["rank"], int)
    assert value["verdict"] in {"good", "bad"}
    assert isinstance(value["reason"], str)


async def test_the_reply_tools_message_is_json_of_the_schema(model: LocalModel) -> None:
    tools = [spec("send_message")]
    for text in ["How do you rank sushi?", "Rank pizza, please."]:
        base = request(user(text), tools=tools, choice="send_message")
        response = await model.complete(formatted(base, AS_SCHEMA))
        (call,) = response.tool_calls
        assert call.name == "send_message"
        message = json.loads(call.arguments)["message"]
        assert isinstance(message, str)  # the reply tool takes text: the JSON of the value
        assert_ranking(json.loads(message))


async def test_a_plain_answer_is_json_of_the_format(model: LocalModel) -> None:
    base = request(user("Describe tea."), tools=[])
    answer = await model.complete(formatted(base, {"type": "json_object"}))
    assert isinstance(json.loads(answer.content or ""), dict)
    ranked = await model.complete(formatted(base, AS_SCHEMA))
    assert_ranking(json.loads(ranked.content or ""))
    cut = await model.complete(formatted(replace(base, max_tokens=6), {"type": "json_object"}))
    assert isinstance(json.loads(cut.content or ""), dict)  # closed where the budget cut it
    text = await model.complete(formatted(base, {"type": "text"}))
    assert text.content
