"""Tool schemas from Python source: names, types, required parameters and descriptions, and
clear refusals of source that cannot make a tool. The source is parsed, never run."""

from typing import Any

import pytest

from troupe.errors import InvalidInput
from troupe.tools.schema import derive_tool


def params(source: str) -> dict[str, Any]:
    parameters: dict[str, Any] = derive_tool(source).json_schema["parameters"]
    return parameters


def prop(annotation: str) -> dict[str, Any]:
    """The schema of one parameter annotated `annotation` (no docstring, no default)."""
    properties: dict[str, Any] = params(f"def f(x: {annotation}): pass")["properties"]
    return dict(properties["x"])


@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        ("str", {"type": "string"}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("bool", {"type": "boolean"}),
        ("dict", {"type": "object"}),
        ("dict[str, int]", {"type": "object"}),
        ("typing.Dict[str, Any]", {"type": "object"}),
        ("list", {"type": "array"}),
        ("list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("List[str]", {"type": "array", "items": {"type": "string"}}),
        ("tuple[int, ...]", {"type": "array", "items": {"type": "integer"}}),
        ("set[float]", {"type": "array", "items": {"type": "number"}}),
        (
            "list[list[bool]]",
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
        ),
        ("Optional[int]", {"type": "integer"}),
        ("typing.Optional[str]", {"type": "string"}),
        ("int | None", {"type": "integer"}),
        ("None | str", {"type": "string"}),
        ("Union[int, None]", {"type": "integer"}),
        ("Union[int, str]", {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        ("int | str | None", {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (
            "Optional[list[str]]",
            {"type": "array", "items": {"type": "string"}},
        ),
        ("Literal['a', 'b']", {"enum": ["a", "b"]}),
        ("Literal[1, -2, 2.5, True, None]", {"enum": [1, -2, 2.5, True, None]}),
        ("Literal[b'raw', ..., 'kept']", {"enum": ["kept"]}),  # what JSON cannot say is left out
        ("Annotated[int, 'a note']", {"type": "integer"}),
        ("'int'", {"type": "integer"}),  # a forward reference
        ("'Optional[\"str\"]'", {"type": "string"}),
        ("Any", {}),
        ("SomeClassOfTheirs", {}),
        ("numpy.ndarray", {}),
        ("'not [ valid'", {}),
        ("list[()]", {}),
    ],
)
def test_annotations_become_json_schema_types(annotation: str, schema: dict[str, Any]) -> None:
    assert prop(annotation) == schema


def test_a_parameter_is_required_exactly_when_it_has_no_default() -> None:
    source = (
        "def f(a: int, b: Optional[int], c: int = 1, d: Optional[str] = None, /, "
        "e: str = 'x', *, g: bool, h: bool = False, **rest): pass"
    )
    assert params(source)["required"] == ["a", "b", "g"]


def test_parameters_keep_their_order_and_varargs_are_left_out() -> None:
    parameters = params("def f(z: int, a: str, *args, m: float, **kwargs): pass")
    assert list(parameters["properties"]) == ["z", "a", "m"]
    assert parameters["type"] == "object"


def test_parameters_the_runtime_fills_in_are_not_shown_to_the_model() -> None:
    parameters = params("def f(self, agent_state: 'AgentState', query: str, ctx=None): pass")
    assert list(parameters["properties"]) == ["query"]
    assert parameters["required"] == ["query"]


def test_google_style_docstrings_give_the_description_and_each_parameter() -> None:
    derived = derive_tool(
        '''
def search(query: str, limit: int = 10) -> list[str]:
    """Search the archive.

    Finds passages by keyword.

    Args:
        query: The words to look for.
        limit (int): How many results
            to return at most.

    Returns:
        The passages found.
    """
'''
    )
    assert derived.name == "search"
    assert derived.description == "Search the archive.\n\nFinds passages by keyword."
    properties = derived.json_schema["parameters"]["properties"]
    assert properties["query"] == {"type": "string", "description": "The words to look for."}
    assert properties["limit"] == {
        "type": "integer",
        "description": "How many results\nto return at most.",
    }
    assert derived.json_schema["description"] == derived.description
    assert derived.json_schema["name"] == "search"


def test_rest_style_docstrings_give_each_parameter() -> None:
    derived = derive_tool(
        '''
def convert(amount: float, currency: str) -> float:
    """Convert money.

    :param amount: How much.
    :param currency: Into which currency, e.g. EUR.
    :returns: The converted amount.
    """
'''
    )
    properties = derived.json_schema["parameters"]["properties"]
    assert derived.description == "Convert money."
    assert properties["amount"]["description"] == "How much."
    assert properties["currency"]["description"] == "Into which currency, e.g. EUR."


def test_a_docstring_the_parser_chokes_on_still_gives_a_description() -> None:
    # docstring_parser raises IndexError on this one; the prose is kept instead.
    derived = derive_tool('def odd(x: int):\n    """: :"""\n')
    assert derived.description == ": :"
    assert derived.json_schema["parameters"]["properties"] == {"x": {"type": "integer"}}


def test_no_docstring_gives_empty_descriptions() -> None:
    derived = derive_tool("def bare(x): return x")
    assert derived.description == ""
    assert derived.json_schema["parameters"]["properties"] == {"x": {}}


def test_the_last_function_is_the_tool_unless_one_is_named() -> None:
    source = "import math\n\ndef helper(a: int): pass\n\nasync def main_tool(b: str): pass\n"
    assert derive_tool(source).name == "main_tool"
    assert derive_tool(source, function_name="helper").name == "helper"
    with pytest.raises(InvalidInput, match="no function named 'other'"):
        derive_tool(source, function_name="other")


def test_methods_and_nested_functions_do_not_count() -> None:
    with pytest.raises(InvalidInput, match="defines no function"):
        derive_tool("class Tools:\n    def method(self): pass\n")


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def broken(:\n    pass", "does not parse"),
        ("def f(x):\nreturn x", "does not parse"),
        ("x = 1\ny = 2\n", "defines no function"),
        ("", "defines no function"),
        ("def f(a, a): pass", "duplicate argument"),  # only the compiler sees this one
        ("return 1\ndef f(): pass", "'return' outside function"),
        ("def f(x: int = 1, y): pass", "non-default argument"),
        ("def f(): pass\x00", "null bytes"),
        ("v = " + "-" * 100_000 + "1\ndef f(): pass", "nests too deeply"),
        ("def f(x: " + "list[" * 300 + "int" + "]" * 300 + "): pass", "nested parentheses"),
        ("def " + "f" * 256 + "(): pass", "at most 255"),
        ("def f():\n    '''Bad \\x00 doc.'''", "\\u0000"),
        ("def f(x: Literal['\\ud800']): pass", "\\ud800"),
    ],
)
def test_source_that_cannot_make_a_tool_is_refused_clearly(source: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        derive_tool(source)
    assert words in refused.value.message


def test_a_long_union_is_read_without_recursing_once_per_member() -> None:
    annotation = " | ".join(["int", "str"] * 200 + ["None"])
    assert prop(annotation) == {"anyOf": [{"type": "integer"}, {"type": "string"}] * 200}


def test_the_source_is_never_run() -> None:
    derived = derive_tool(
        "raise SystemExit('ran!')\n"
        "import os\n"
        "os.remove('/definitely/not/here')\n"
        "def safe(x: int) -> int:\n"
        "    return x\n"
    )
    assert derived.name == "safe"


MODELS = '''
from typing import List, Optional
from pydantic import BaseModel, Field

class Item(BaseModel):
    sku: str = Field(..., description="Unique product identifier")
    price: float = Field(0.0, description="Current price")
    tags: list[str] = Field(default_factory=list)
    note: Optional[str] = None

class Entry(Item):
    parent: Optional["Entry"] = None
    quantity: int

def record(entries: List[Entry], first: Item):
    """Record inventory entries.

    Args:
        entries: what changed
        first: the item first seen
    """
'''


def test_pydantic_models_in_the_source_are_described_by_their_fields() -> None:
    """As Letta's guide writes tools (`orders: List[Order]` with `class Order(BaseModel)`):
    the fields, their descriptions, which are required; base models' fields first; a model
    naming itself stops at a plain object. Still parsed only: the source never runs."""
    properties = params(MODELS)["properties"]
    item = {
        "type": "object",
        "properties": {
            "sku": {"type": "string", "description": "Unique product identifier"},
            "price": {"type": "number", "description": "Current price"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
        },
        "required": ["sku"],
    }
    assert properties["first"] == {**item, "description": "the item first seen"}
    entry = properties["entries"]["items"]
    assert list(entry["properties"]) == ["sku", "price", "tags", "note", "parent", "quantity"]
    assert entry["required"] == ["sku", "quantity"]
    assert entry["properties"]["parent"] == {"type": "object"}
    assert properties["entries"]["description"] == "what changed"


def test_models_naming_each_other_many_times_over_give_a_bounded_schema() -> None:
    """Thirty models, each with ten fields of the next: 10^30 objects if spelled out."""
    lines = ["from pydantic import BaseModel"]
    for i in range(30):
        fields = "".join(f"\n    f{j}: 'M{i + 1}'" for j in range(10)) if i < 29 else "\n    x: int"
        lines.append(f"class M{i}(BaseModel):{fields}")
    lines.append("def f(m: M0): pass")
    schema = params("\n".join(lines))["properties"]["m"]
    assert schema["type"] == "object"
    assert len(str(schema)) < 100_000
