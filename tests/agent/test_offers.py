"""The tool specs a step offers are kept by tool rows and writable blocks (troupe.agent.
offers): the same as building them afresh, and built afresh whenever what they depend on
changes."""

from dataclasses import replace
from datetime import UTC, datetime

from troupe.agent.offers import TOOL_OVERHEAD_CHARS, OfferCache
from troupe.agent.prompt import Offer, tool_specs
from troupe.agent.tool_rules import ToolRuleSolver, parse_rules
from troupe.store.step_reads import ToolShelf
from troupe.store.tables import ToolRow
from troupe.tools.registry import BuiltinTool, ToolRegistry

SCHEMA = {
    "name": "edit",
    "description": "edit a block",
    "parameters": {
        "type": "object",
        "properties": {"label": {"type": "string"}, "text": {"type": "string"}},
        "required": ["label", "text"],
    },
}


def row(name: str = "edit", schema: dict[str, object] = SCHEMA) -> ToolRow:
    return ToolRow(id=f"tool-{name}", name=name, json_schema=schema, updated_at=datetime.now(UTC))


def test_kept_specs_are_the_ones_built_afresh_and_change_with_their_inputs() -> None:
    cache, shelf, registry = OfferCache(), ToolShelf(), ToolRegistry()
    plain = ToolRuleSolver([], available=["edit"])
    tool = row()
    first = cache.offered(registry, shelf, [tool], ("human",), plain, ["edit"])
    assert list(first.specs) == tool_specs([Offer.of(SCHEMA, None)], ["human"])
    assert first.chars == shelf.schema_chars(tool) + TOOL_OVERHEAD_CHARS
    assert cache.offered(registry, shelf, [tool], ("human",), plain, ["edit"]) is first
    # Other writable blocks, or a changed tool (a new row from the shelf): built again.
    assert cache.offered(registry, shelf, [tool], ("persona",), plain, ["edit"]) is not first
    renamed = {**SCHEMA, "description": "edit a memory block"}
    changed = cache.offered(registry, shelf, [row(schema=renamed)], ("human",), plain, ["edit"])
    assert changed.specs[0].description == "edit a memory block"


def test_rules_that_fix_arguments_shape_each_step_afresh() -> None:
    cache, shelf, registry = OfferCache(), ToolShelf(), ToolRegistry()
    rules = parse_rules([{"type": "run_first", "tool_name": "edit", "args": {"label": "human"}}])
    solver = ToolRuleSolver(rules, available=["edit"])
    tool = row()
    first = cache.offered(registry, shelf, [tool], (), solver, ["edit"])
    assert "label" not in first.specs[0].parameters["properties"]  # prefilled: not asked for
    solver.record("edit")
    later = cache.offered(registry, shelf, [tool], (), solver, ["edit"])
    assert "label" in later.specs[0].parameters["properties"]


def test_a_tool_registered_later_or_another_registry_builds_afresh() -> None:
    cache, shelf, registry = OfferCache(), ToolShelf(), ToolRegistry()
    plain = ToolRuleSolver([], available=["edit"])
    tool = row()
    first = cache.offered(registry, shelf, [tool], ("human",), plain, ["edit"])
    assert "request_heartbeat" in first.specs[0].parameters["properties"]  # a plain tool
    # Registered now as a built-in that ends the turn: offered without the heartbeat flag.
    builtin = BuiltinTool("edit", "letta_core", "edit", "", SCHEMA, ends_turn=True)
    registry.register(replace(builtin, heartbeat=False))
    now = cache.offered(registry, shelf, [tool], ("human",), plain, ["edit"])
    assert "request_heartbeat" not in now.specs[0].parameters["properties"]
    other = cache.offered(ToolRegistry(), shelf, [tool], ("human",), plain, ["edit"])
    assert list(other.specs) == list(first.specs)
    assert other is not first
