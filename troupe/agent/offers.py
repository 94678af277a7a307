"""The tools a step offers the model, as specs, with what their schemas add to the prompt.

Building the specs (a heartbeat flag added to each schema, memory tools' labels narrowed to
the agent's writable blocks) and measuring them cost as much at every step as the rest of
the step's context, although they only change when the agent's tools, its writable blocks
or its rules do. So they are kept, by the tool rows offered: the shelf (troupe.store.
step_reads.ToolShelf) hands out the same row object for a tool until it changes, and a
changed tool is a new row object, hence a new key. Rules that fix or narrow arguments vary
with the step (a prefilled argument only on the first call), so their specs are not kept."""

from collections.abc import Sequence
from typing import NamedTuple

from troupe.agent.prompt import Offer, tool_specs
from troupe.agent.tool_rules import ToolRuleSolver
from troupe.llm.base import ToolSpec
from troupe.store.step_reads import ToolShelf
from troupe.store.tables import ToolRow
from troupe.tools.registry import ToolRegistry

TOOL_OVERHEAD_CHARS = 120  # what offering a tool adds to its schema (the heartbeat flag...)


class Offered(NamedTuple):
    specs: tuple[ToolSpec, ...]
    chars: int  # the tools' schemas as text, with TOOL_OVERHEAD_CHARS each


class _Held(NamedTuple):
    # The registry the specs were built from, and how many tools it held then: it only
    # grows, so the same registry at the same size resolves every name as it did (no
    # lookup of each tool at every step).
    registry: ToolRegistry
    registered: int
    offered: Offered


def tool_chars(shelf: ToolShelf, tools: Sequence[ToolRow]) -> int:
    """What offering these tools adds to a prompt, in characters."""
    return sum(shelf.schema_chars(tool) + TOOL_OVERHEAD_CHARS for tool in tools)


class OfferCache:
    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._held: dict[tuple[tuple[ToolRow, ...], tuple[str, ...], bool], _Held] = {}

    def offered(
        self,
        registry: ToolRegistry,
        shelf: ToolShelf,
        tools: Sequence[ToolRow],
        writable: tuple[str, ...],
        solver: ToolRuleSolver,
        allowed: Sequence[str],
    ) -> Offered:
        """The specs of `tools` (those of the `allowed` names the agent has) for an agent
        whose writable blocks are `writable`."""
        if solver.shapes_arguments:
            return self._build(registry, shelf, tools, writable, solver, allowed)
        key = (tuple(tools), writable, solver.every_call_continues)
        held = self._held.get(key)
        if held is not None and held.registry is registry and held.registered == len(registry):
            return held.offered
        offered = self._build(registry, shelf, tools, writable, solver, allowed)
        if len(self._held) >= self.max_entries:
            self._held.clear()  # rare (that many tool sets in use): start over
        self._held[key] = _Held(registry, len(registry), offered)
        return offered

    @staticmethod
    def _build(
        registry: ToolRegistry,
        shelf: ToolShelf,
        tools: Sequence[ToolRow],
        writable: tuple[str, ...],
        solver: ToolRuleSolver,
        allowed: Sequence[str],
    ) -> Offered:
        specs = tool_specs(
            [
                Offer.of(tool.json_schema, registry.get(tool.name), solver.every_call_continues)
                for tool in tools
            ],
            writable,
            {n: list(solver.prefilled(n)) for n in allowed},
            {n: solver.argument_schemas(n) for n in allowed},
        )
        return Offered(tuple(specs), tool_chars(shelf, tools))
