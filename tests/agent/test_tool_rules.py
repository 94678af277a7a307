"""The tool-rule solver: which tools each step may call, and what ends a turn."""

import pytest

from troupe.agent.tool_rules import ToolRuleSolver, parse_rules
from troupe.errors import InvalidInput

TOOLS = ["send_message", "core_memory_replace", "broadcast", "search"]


def solver(*rules: dict[str, object]) -> ToolRuleSolver:
    return ToolRuleSolver(parse_rules(list(rules)), available=TOOLS)


def test_without_rules_every_tool_is_allowed_and_no_call_is_forced() -> None:
    s = solver()
    assert s.allowed() == TOOLS
    assert not s.must_call_a_tool()


def test_run_first_narrows_the_first_step_only() -> None:
    s = solver({"type": "run_first", "tool_name": "broadcast"})
    assert s.allowed() == ["broadcast"]
    assert s.must_call_a_tool()
    s.record("broadcast")
    assert s.allowed() == TOOLS


def test_child_rule_constrains_what_follows_a_tool() -> None:
    s = solver(
        {
            "type": "constrain_child_tools",
            "tool_name": "core_memory_replace",
            "children": ["send_message"],
        }
    )
    s.record("core_memory_replace")
    assert s.allowed() == ["send_message"]
    assert s.must_call_a_tool()


def test_max_count_per_step_removes_a_tool_after_its_limit() -> None:
    s = solver({"type": "max_count_per_step", "tool_name": "search", "max_count_limit": 2})
    s.record("search")
    assert "search" in s.allowed()
    s.record("search")
    assert "search" not in s.allowed()


def test_exit_and_continue_rules() -> None:
    s = solver(
        {"type": "exit_loop", "tool_name": "broadcast"},
        {"type": "continue_loop", "tool_name": "search"},
    )
    assert s.ends_turn("broadcast")
    assert not s.ends_turn("search")
    assert s.continues_turn("search")


def test_required_before_exit_lists_what_is_still_missing() -> None:
    s = solver({"type": "required_before_exit", "tool_name": "core_memory_replace"})
    assert s.missing_before_exit() == ["core_memory_replace"]
    s.record("core_memory_replace")
    assert s.missing_before_exit() == []


def test_parent_last_tool_allows_a_child_only_after_its_parent() -> None:
    s = solver({"type": "parent_last_tool", "tool_name": "search", "children": ["send_message"]})
    assert "send_message" not in s.allowed()
    s.record("search")
    assert "send_message" in s.allowed()


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "teleport", "tool_name": "x"},
        {"type": "exit_loop"},
        {"type": "max_count_per_step", "tool_name": "x", "max_count_limit": 0},
    ],
)
def test_malformed_rules_are_refused(rule: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        parse_rules([rule])


def test_prefilled_args_apply_to_the_first_call_only() -> None:
    s = solver({"type": "run_first", "tool_name": "broadcast", "args": {"tags": ["team"]}})
    assert s.prefilled("broadcast") == {"tags": ["team"]}
    assert s.prefilled("search") == {}
    s.record("broadcast")
    assert s.prefilled("broadcast") == {}


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "run_first", "tool_name": "search", "args": ["not", "an", "object"]},
        {"type": "exit_loop", "tool_name": "search", "args": {"query": "x"}},
    ],
)
def test_malformed_prefilled_args_are_refused(rule: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        parse_rules([rule])
