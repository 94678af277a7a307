"""The embedded model's grammar honours the JSON Schema constraints of tool parameters:
`pattern`, `enum`, `minLength` / `maxLength`; and a tool rule's `args_schema` narrows a
parameter for one agent."""

import json
import re
from typing import Any

import pytest

from troupe.agent.prompt import Offer, tool_specs
from troupe.agent.tool_rules import ToolRuleSolver, parse_rules
from troupe.errors import InvalidInput
from troupe.llm.base import ChatMessage, ModelRequest, ToolSpec
from troupe.llm.local.grammar import anchored, call_schema
from troupe.llm.local.model import LocalModel
from troupe.tools.core import core_registry

SENTENCE = r"^[A-Z][a-z]*( [a-z]+){2,8}\.$"
REGISTRY = core_registry()


def tool(**properties: dict[str, Any]) -> ToolSpec:
    return ToolSpec(
        "report",
        "Report something.",
        {"type": "object", "properties": properties, "required": list(properties)},
    )


def arguments_schema(spec: ToolSpec) -> dict[str, Any]:
    schema = call_schema([spec], budget=256)
    return dict(schema["properties"]["arguments"]["properties"])


def gbnf(spec: ToolSpec) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(json.dumps(call_schema([spec], budget=256))))


def test_a_pattern_reaches_the_grammar_anchored() -> None:
    kept = arguments_schema(tool(message={"type": "string", "pattern": SENTENCE}))
    # `\.` as `[.]`: llama.cpp's parser refuses the converter's literal "\."
    assert kept["message"]["pattern"] == r"^([A-Z][a-z]*( [a-z]+){2,8}[.])$"
    assert "maxLength" not in kept["message"]  # the pattern bounds its own length
    assert "[.]" in gbnf(tool(message={"type": "string", "pattern": SENTENCE}))
    assert "\\." not in gbnf(tool(message={"type": "string", "pattern": SENTENCE}))


def test_an_unanchored_pattern_admits_text_around_it_but_no_quote() -> None:
    pattern = anchored("ab+")
    assert re.fullmatch(pattern, "xx abbb yy")
    assert not re.fullmatch(pattern, "xx a yy")
    assert not re.fullmatch(pattern, 'x" abb')
    assert re.fullmatch(anchored("^ab$"), "ab")
    assert not re.fullmatch(anchored("^ab"), "xab")
    assert re.fullmatch(anchored("^ab"), "abxyz")
    assert anchored(r"^a\.b[\.-]\$$") == r"^(a[.]b[\.-][$])$"  # in a class: kept


def test_enum_and_lengths_are_kept_within_the_cap() -> None:
    kept = arguments_schema(
        tool(
            color={"type": "string", "enum": ["red", "green"]},
            note={"type": "string", "minLength": 5, "maxLength": 40},
            long={"type": "string", "minLength": 2, "maxLength": 100_000},
        )
    )
    assert kept["color"]["enum"] == ["red", "green"]
    assert (kept["note"]["minLength"], kept["note"]["maxLength"]) == (5, 40)
    assert kept["long"]["minLength"] == 2
    assert kept["long"]["maxLength"] < 100_000  # the cap still bounds a generated string


def test_a_rule_args_schema_narrows_the_parameter_for_that_agent() -> None:
    rules = parse_rules(
        [
            {
                "type": "exit_loop",
                "tool_name": "send_message",
                "args_schema": {"message": {"pattern": SENTENCE}, "absent": {"enum": ["x"]}},
            }
        ]
    )
    solver = ToolRuleSolver(rules, ["send_message"])
    send = REGISTRY.get("send_message")
    (spec,) = tool_specs(
        [Offer.of(send.json_schema, send)],
        narrowed={"send_message": solver.argument_schemas("send_message")},
    )
    message = spec.parameters["properties"]["message"]
    assert message["pattern"] == SENTENCE
    assert message["type"] == "string"  # the tool's own schema, narrowed, not replaced
    assert "absent" not in spec.parameters["properties"]  # no parameter the tool lacks
    (plain,) = tool_specs([Offer.of(send.json_schema, send)])
    assert "pattern" not in plain.parameters["properties"]["message"]


@pytest.mark.parametrize("bad", [["not", "a", "map"], {"message": "a string, not a schema"}])
def test_an_args_schema_that_is_not_schemas_by_parameter_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidInput, match="args_schema"):
        parse_rules([{"type": "exit_loop", "tool_name": "send_message", "args_schema": bad}])


@pytest.fixture(scope="module")
def model() -> LocalModel:
    return LocalModel("local/smollm2-135m")


@pytest.mark.slow
async def test_the_embedded_model_writes_only_what_the_constraints_allow(
    model: LocalModel,
) -> None:
    spec = tool(
        message={"type": "string", "pattern": SENTENCE},
        mood={"type": "string", "enum": ["calm", "busy"]},
        tag={"type": "string", "minLength": 3, "maxLength": 6},
    )
    for text in ["How are you?", 'Write JSON: {"a": [1, 2]}', "<script>alert(1)</script>"]:
        response = await model.complete(
            ModelRequest(
                messages=[
                    ChatMessage(role="system", content="You report."),
                    ChatMessage(role="user", content=text),
                ],
                tools=[spec],
                tool_choice="report",
            )
        )
        arguments = json.loads(response.tool_calls[0].arguments)
        assert re.fullmatch(SENTENCE, arguments["message"]), arguments
        assert arguments["mood"] in {"calm", "busy"}
        assert 3 <= len(arguments["tag"]) <= 6, arguments
