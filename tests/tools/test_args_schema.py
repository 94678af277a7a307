"""A tool's `args_json_schema`: checked, turned into the parameters the model is offered
(troupe.tools.args_schema), and made into classes where the tool runs, in the real sandbox
(troupe.tools.sandbox_models, loaded by the sandbox's child process)."""

import asyncio
import datetime
import enum
import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from tests.tools.helpers import FAST
from troupe.errors import InvalidInput
from troupe.tools.args_schema import check_args_schema, parameters_from_args_schema
from troupe.tools.sandbox import SandboxResult, run_tool_in_sandbox


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Node(BaseModel):
    value: int
    children: list["Node"] = []


class Paint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    color: Color
    shade: Literal["light", "dark"] | None = None
    when: datetime.datetime | None = None
    class_: str = Field("plain", alias="class")


class Arguments(BaseModel):
    tree: Node
    paint: Paint | None = None
    count: int = Field(1, ge=1, description="How many.")


SCHEMA = Arguments.model_json_schema()


def sandboxed(source: str, schema: dict[str, Any] | None, **arguments: Any) -> SandboxResult:
    return asyncio.run(
        run_tool_in_sandbox(
            source_code=source,
            function_name="f",
            arguments=arguments,
            env={},
            limits=FAST,  # 256 MB of address space: pydantic fits
            args_schema=schema,
        )
    )


def test_parameters_spell_models_out_in_place_and_stop_inside_themselves() -> None:
    parameters = parameters_from_args_schema(SCHEMA, {"tree": "The tree.", "count": "ignored"})
    assert parameters["required"] == ["tree"]
    tree = parameters["properties"]["tree"]
    assert tree["description"] == "The tree."  # the docstring's, the schema having none
    assert tree["properties"]["value"] == {"type": "integer"}
    inner = tree["properties"]["children"]["items"]  # Node inside Node: a plain object
    assert inner == {"type": "object"}
    paint = parameters["properties"]["paint"]  # Optional[Paint]: Paint, not anyOf with null
    assert paint["type"] == "object"
    assert paint["additionalProperties"] is False
    assert paint["properties"]["color"] == {"enum": ["red", "blue"], "type": "string"}
    assert paint["properties"]["shade"] == {
        "enum": ["light", "dark"],
        "type": "string",
        "default": None,
    }
    assert paint["properties"]["when"]["format"] == "date-time"
    assert "class" in paint["properties"]
    # The schema's own description wins over the docstring's.
    assert parameters["properties"]["count"]["description"] == "How many."
    assert "title" not in json.dumps(parameters)


def test_a_recursive_model_as_the_arguments_and_a_wide_schema_stay_bounded() -> None:
    recursive = Node.model_json_schema()  # {"$ref": "#/$defs/Node", "$defs": {...}}
    check_args_schema(recursive)
    parameters = parameters_from_args_schema(recursive, {})
    assert parameters["properties"]["children"]["items"] == {"type": "object"}
    # Ten models each naming the next ten times: spelled out, 10**10 copies; kept to a budget.
    defs = {
        f"M{i}": {
            "type": "object",
            "properties": {f"f{j}": {"$ref": f"#/$defs/M{i + 1}"} for j in range(10)},
        }
        for i in range(10)
    }
    defs["M10"] = {"type": "object", "properties": {"leaf": {"type": "string"}}}
    wide = {"$defs": defs, "type": "object", "properties": {"a": {"$ref": "#/$defs/M0"}}}
    check_args_schema(wide)
    assert len(json.dumps(parameters_from_args_schema(wide, {}))) < 100_000


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "array", "items": {}}, "must describe an object"),
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Nope"}}}, "#/$defs/Nope"),
        ({"type": "object", "properties": {"x": {"$ref": "other.json#/x"}}}, "other.json"),
        # A property may be called `default` or `enum`: its schema is still checked.
        ({"type": "object", "properties": {"default": {"$ref": "#/$defs/X"}}}, "#/$defs/X"),
        ({"$defs": {"1st": {"type": "object"}}, "properties": {}}, "Python class name"),
        ({"$defs": {"X": "object"}, "properties": {}}, "map names to schemas"),
        ({"properties": {"class": {"type": "string"}}}, "Python parameter name"),
        ({"properties": {"a": 1}}, "map names to schemas"),
        ({"properties": {}, "required": [1]}, "list of names"),
        ({"$defs": {"A": {"properties": ["a"]}}, "properties": {}}, "`$defs.A` `properties`"),
        ({"$defs": {"A": {"type": "string"}}, "$ref": "#/$defs/A"}, "must name a model"),
        ({"properties": {"a": {"description": "x" * 300_000}}}, "characters of JSON"),
        ({"properties": {"a": {"description": "nul\u0000"}}}, "cannot be stored"),
    ],
)
def test_schemas_a_tool_cannot_have_are_refused_with_the_reason(
    schema: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidInput, match=None) as refused:
        check_args_schema(schema)
    assert says in refused.value.message


def test_schemas_true_and_false_are_understood() -> None:
    schema = {"properties": {"anything": True, "nothing": False}}
    check_args_schema(schema)
    parameters = parameters_from_args_schema(schema, {"anything": "Whatever you like."})
    assert parameters["properties"] == {
        "anything": {"description": "Whatever you like."},
        "nothing": {"not": {}},
    }


def test_deep_nesting_is_refused_not_a_crash() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(5000):
        deep = {"type": "array", "items": deep}
    with pytest.raises(InvalidInput):
        check_args_schema({"type": "object", "properties": {"a": deep}})


KINDS = """
def f(tree: Node, paint: Paint = None, count: int = 1) -> str:
    kinds = [type(tree).__name__, type(tree.children[0]).__name__, type(count).__name__]
    if paint is not None:
        kinds += [type(paint).__name__, type(paint.color).__name__, paint.color.value]
        kinds += [paint.class_, type(paint.when).__name__, str(paint.when.year)]
    return " ".join(kinds)
"""


def test_the_tool_runs_with_the_schemas_classes_and_gets_instances() -> None:
    tree = {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}
    paint = {"color": "red", "class": "glossy", "when": "2026-01-02T03:04:05Z"}
    result = sandboxed(KINDS, SCHEMA, tree=tree, paint=paint, count="2")
    assert (result.status, result.return_value) == (
        "success",
        "Node Node int Paint Color red glossy datetime 2026",
    )
    # An argument left out keeps the function's own default.
    assert sandboxed(KINDS, SCHEMA, tree=tree).return_value == "Node Node int"


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"tree": {"value": "one"}}, "tree.value: Input should be a valid integer"),
        ({"tree": {"value": 1}, "count": 0}, "count: Input should be greater than or equal to 1"),
        ({"tree": {"value": 1}, "paint": {"color": "green"}}, "paint.color: Input should be"),
        ({"tree": {"value": 1}, "paint": {"color": "red", "gloss": 1}}, "paint.gloss: Extra"),
        ({"tree": {"value": 1, "children": [{}]}}, "tree.children.0.value: Field required"),
    ],
)
def test_arguments_that_do_not_fit_are_the_tools_error(
    arguments: dict[str, Any], says: str
) -> None:
    result = sandboxed(KINDS, SCHEMA, **arguments)
    assert result.status == "error"
    assert not result.raised  # the tool never ran: the model is told what to send instead
    assert says in result.return_value
    assert result.return_value.startswith("the arguments do not fit the tool's args_json_schema")


def test_a_schema_pydantic_cannot_make_fails_the_call_clearly() -> None:
    bad = {"type": "object", "properties": {"code": {"type": "string", "pattern": "(unclosed"}}}
    result = sandboxed("def f(code: str) -> str:\n    return code", bad, code="x")
    assert result.status == "error"
    assert "args_json_schema could not be made into classes" in result.return_value


def test_a_tool_without_the_schema_does_not_load_pydantic() -> None:
    source = "import sys\ndef f() -> bool:\n    return 'pydantic' in sys.modules"
    assert sandboxed(source, None).return_value == "False"
    assert sandboxed(source, {"type": "object", "properties": {}}).return_value == "True"
