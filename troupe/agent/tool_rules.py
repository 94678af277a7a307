"""Letta's tool rules: which tools the model may call at each step of a turn, and whether a
call ends or continues the turn. The allowed set is passed to the model (only those tools are
offered, and `tool_choice` forces a call where a rule demands one), and checked again on the
reply, since not every provider honours the constraint.

A `run_first` rule may carry `args` (Letta's prefilled arguments): those values replace
whatever the model writes for them, and the model is not asked to write them at all. That is
how a small model is kept on a workflow step whose arguments are known in advance.

Any rule may carry `args_schema` (troupe's): JSON Schemas, by parameter, that narrow what the
model may write for its tool's arguments whenever this agent is offered that tool (`pattern`,
`enum`, `minLength` / `maxLength`, ...). The embedded model's grammar holds it to them; other
providers receive them in the tool's schema. That is how a small model is asked for a
sentence where its tool's own schema says only "a string"."""

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from troupe.errors import InvalidInput

RULE_TYPES = {
    "run_first",
    "exit_loop",
    "continue_loop",
    "constrain_child_tools",
    "max_count_per_step",
    "required_before_exit",
    "parent_last_tool",
    "conditional",
    "requires_approval",
}


@dataclass(frozen=True)
class ToolRule:
    type: str
    tool_name: str
    children: tuple[str, ...] = ()
    max_count_limit: int | None = None
    args: dict[str, Any] = field(default_factory=dict)
    args_schema: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse_rules(raw: list[dict[str, Any]]) -> list[ToolRule]:
    rules = []
    for item in raw:
        rule_type, name = item.get("type"), item.get("tool_name")
        if rule_type not in RULE_TYPES:
            raise InvalidInput(
                f"unknown tool rule type {rule_type!r}; known: {', '.join(sorted(RULE_TYPES))}"
            )
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"tool rule {rule_type!r} needs a `tool_name`")
        children = item.get("children") or []
        if rule_type == "conditional":
            mapping = item.get("child_output_mapping") or {}
            children = [
                *mapping.values(),
                *([item["default_child"]] if item.get("default_child") else []),
            ]
        limit = item.get("max_count_limit")
        if rule_type == "max_count_per_step" and (not isinstance(limit, int) or limit < 1):
            raise InvalidInput("a max_count_per_step rule needs `max_count_limit` >= 1")
        args = item.get("args") or {}
        if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
            raise InvalidInput(f"tool rule {rule_type!r}: `args` is an object of argument values")
        if args and rule_type != "run_first":
            raise InvalidInput("prefilled `args` are only supported on run_first rules")
        rules.append(
            ToolRule(rule_type, name, tuple(children), limit, dict(args), _args_schema(item))
        )
    return rules


def in_force(rules: list[ToolRule], available: Collection[str]) -> list[ToolRule]:
    """The rules that apply to an agent with these tools. As Letta accepts them, a rule naming
    a tool the agent lacks is inert until that tool is attached; children it lacks are left
    out (a rule left with none is inert too)."""
    kept = []
    for rule in rules:
        children = tuple(c for c in rule.children if c in available)
        if rule.tool_name in available and (children or not rule.children):
            kept.append(replace(rule, children=children))
    return kept


def _args_schema(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemas = item.get("args_schema") or {}
    if not isinstance(schemas, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in schemas.items()
    ):
        raise InvalidInput(
            f"tool rule {item.get('type')!r}: `args_schema` maps parameter names to JSON Schemas"
        )
    return dict(schemas)


@dataclass
class ToolRuleSolver:
    """Tracks one turn's calls and answers what may come next."""

    rules: list[ToolRule]
    available: list[str]
    called: list[str] = field(default_factory=list)
    # Letta's v1 loop (letta_v1_agent): every tool call goes on to another step, with no
    # request_heartbeat flag to ask for it; a plain-text answer (or an exit rule) ends the
    # turn. MemGPT's loop ends a turn at a call that did not ask for a heartbeat.
    every_call_continues: bool = False

    def __post_init__(self) -> None:
        # The rules by type, once: a step asks for several types, several times.
        self._by_type: dict[str, list[ToolRule]] = {}
        for rule in self.rules:
            self._by_type.setdefault(rule.type, []).append(rule)
        # Whether a rule fixes or narrows arguments: else the specs offered depend on the
        # tools alone (troupe.agent.offers keeps them).
        self.shapes_arguments = any(r.args or r.args_schema for r in self.rules)

    def _of(self, rule_type: str) -> list[ToolRule]:
        return self._by_type.get(rule_type, [])

    def allowed(self) -> list[str]:
        if not self.called and self._of("run_first"):
            allowed = [r.tool_name for r in self._of("run_first")]
        else:
            last = self.called[-1] if self.called else None
            child_rules = [
                r for r in self.rules
                if r.tool_name == last and r.type in {"constrain_child_tools", "conditional"}
            ]  # fmt: skip
            allowed = list(child_rules[0].children) if child_rules else list(self.available)
        for rule in self._of("max_count_per_step"):
            if self.called.count(rule.tool_name) >= (rule.max_count_limit or 0):
                allowed = [t for t in allowed if t != rule.tool_name]
        parents: dict[str, list[str]] = {}
        for rule in self._of("parent_last_tool"):
            for child in rule.children:
                parents.setdefault(child, []).append(rule.tool_name)
        last = self.called[-1] if self.called else None
        allowed = [t for t in allowed if t not in parents or last in parents[t]]
        return [t for t in allowed if t in self.available]

    def must_call_a_tool(self) -> bool:
        """Whether a rule constrains this step, so a reply with no call is not acceptable."""
        return bool(not self.called and self._of("run_first")) or bool(
            self.called
            and any(
                r.tool_name == self.called[-1]
                for r in self.rules
                if r.type in {"constrain_child_tools", "conditional"}
            )
        )

    def prefilled(self, tool_name: str) -> dict[str, Any]:
        """The arguments a rule fixes for this tool at this step (run_first: the first call)."""
        if self.called:
            return {}
        merged: dict[str, Any] = {}
        for rule in self._of("run_first"):
            if rule.tool_name == tool_name:
                merged.update(rule.args)
        return merged

    def argument_schemas(self, tool_name: str) -> dict[str, dict[str, Any]]:
        """The JSON Schemas the agent's rules give this tool's parameters (any step)."""
        merged: dict[str, dict[str, Any]] = {}
        for rule in self.rules:
            if rule.tool_name == tool_name:
                merged.update(rule.args_schema)
        return merged

    def record(self, tool_name: str) -> None:
        self.called.append(tool_name)

    def needs_approval(self, tool_name: str) -> bool:
        return any(r.tool_name == tool_name for r in self._of("requires_approval"))

    def ends_turn(self, tool_name: str) -> bool:
        return any(r.tool_name == tool_name for r in self._of("exit_loop"))

    def continues_turn(self, tool_name: str) -> bool:
        return self.every_call_continues or any(
            r.tool_name == tool_name for r in self._of("continue_loop")
        )

    def missing_before_exit(self) -> list[str]:
        return [
            r.tool_name for r in self._of("required_before_exit") if r.tool_name not in self.called
        ]
