"""The step loop through a real server: chaining, limits, tool rules, memory tools, faults."""

import json
from typing import Any

import httpx
import pytest

from tests.server.helpers import (
    block_value,
    make_agent,
    of_type,
    script,
    send,
    unique,
)

SEARCH = {"tool": "conversation_search", "args": {"query": "x"}}


def reply(text: str) -> dict[str, Any]:
    return {"tool": "send_message", "args": {"message": text}}


def test_heartbeats_chain_steps_until_the_agent_replies(http: httpx.Client) -> None:
    agent = make_agent(http)
    result = send(http, agent["id"], script(SEARCH, SEARCH, reply("found nothing")))
    assert result["stop_reason"]["stop_reason"] == "end_turn"
    assert result["usage"]["step_count"] == 3
    assert [m["tool_call"]["name"] for m in of_type(result, "tool_call_message")] == [
        "conversation_search",
        "conversation_search",
    ]
    assert [m["content"] for m in of_type(result, "assistant_message")] == ["found nothing"]


def test_a_tool_without_heartbeat_ends_the_turn(http: httpx.Client) -> None:
    agent = make_agent(http)
    result = send(http, agent["id"], script({**SEARCH, "heartbeat": False}, reply("never sent")))
    assert result["usage"]["step_count"] == 1
    assert of_type(result, "assistant_message") == []


def test_max_steps_caps_a_turn_that_never_ends(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/function:tests.support.models:always_search")
    result = send(http, agent["id"], "go", max_steps=3)
    assert result["stop_reason"]["stop_reason"] == "max_steps"
    assert result["usage"]["step_count"] == 3


def test_malformed_arguments_and_unknown_tools_come_back_as_errors_and_the_turn_goes_on(
    http: httpx.Client,
) -> None:
    agent = make_agent(http)
    result = send(
        http,
        agent["id"],
        script(
            {"tool": "core_memory_append", "raw": '{"label": "human", '},
            {"tool": "teleport", "args": {}},
            reply("recovered"),
        ),
    )
    returns = of_type(result, "tool_return_message")
    assert [r["status"] for r in returns] == ["error", "error"]
    assert "not valid JSON" in returns[0]["tool_return"]
    assert "no tool named 'teleport'" in returns[1]["tool_return"]
    assert of_type(result, "assistant_message")[0]["content"] == "recovered"
    history = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 50}).json()
    assert [m["id"] for m in history][-len(result["messages"]) :] == [
        m["id"] for m in result["messages"]
    ]


def test_memory_tools_edit_blocks_and_refuse_bad_edits_without_changing_them(
    http: httpx.Client,
) -> None:
    agent = make_agent(
        http,
        memory_blocks=[
            {"label": "human", "value": "name: Ada", "limit": 40},
            {"label": "persona", "value": "fixed", "read_only": True},
        ],
        tools=["memory_insert", "memory_replace", "memory_rethink"],
    )
    steps = [
        {"tool": "core_memory_append", "args": {"label": "human", "content": "likes tea"}},
        {
            "tool": "core_memory_replace",
            "args": {"label": "human", "old_content": "tea", "new_content": "coffee"},
        },
        {"tool": "memory_insert", "args": {"label": "human", "new_str": "id: 7", "insert_line": 0}},
        {
            "tool": "memory_replace",
            "args": {"label": "human", "old_str": "id: 7", "new_str": "id: 8"},
        },
        {
            "tool": "core_memory_replace",
            "args": {"label": "human", "old_content": "absent", "new_content": "x"},
        },
        {"tool": "core_memory_append", "args": {"label": "human", "content": "x" * 40}},
        {"tool": "core_memory_append", "args": {"label": "persona", "content": "more"}},
        {"tool": "core_memory_append", "args": {"label": "nope", "content": "x"}},
        reply("ok"),
    ]
    result = send(http, agent["id"], script(*steps))
    statuses = [r["status"] for r in of_type(result, "tool_return_message")]
    assert statuses == ["success"] * 4 + ["error"] * 4
    errors = [r["tool_return"] for r in of_type(result, "tool_return_message")][4:]
    assert "'absent' is not in memory block 'human'" in errors[0]
    assert "over its limit of 40" in errors[1]
    assert "read-only" in errors[2]
    assert "no memory block labelled 'nope'" in errors[3]
    assert block_value(http, agent["id"], "human") == "id: 8\nname: Ada\nlikes coffee"
    assert block_value(http, agent["id"], "persona") == "fixed"

    result = send(
        http,
        agent["id"],
        script(
            {"tool": "memory_rethink", "args": {"label": "human", "new_memory": "blank"}},
            reply("ok"),
        ),
    )
    assert block_value(http, agent["id"], "human") == "blank"


def test_an_edit_by_one_agent_is_what_another_sees_at_its_next_step(http: httpx.Client) -> None:
    shared = http.post("/v1/blocks/", json={"label": "team_tasks", "value": "task-1: open"}).json()
    writer = make_agent(http, block_ids=[shared["id"]])
    reader = make_agent(
        http, block_ids=[shared["id"]], model="test/function:tests.support.models:report_memory"
    )
    send(
        http,
        writer["id"],
        script(
            {
                "tool": "core_memory_replace",
                "args": {"label": "team_tasks", "old_content": "open", "new_content": "done"},
            },
            reply("ok"),
        ),
    )
    seen = of_type(send(http, reader["id"], "what do you see?"), "assistant_message")[0]["content"]
    assert "task-1: done" in seen


def test_archival_memory_and_conversation_search_find_what_was_stored(http: httpx.Client) -> None:
    agent = make_agent(http)
    word = unique("zebra")
    send(http, agent["id"], f"remember {word}")
    result = send(
        http,
        agent["id"],
        script(
            {"tool": "archival_memory_insert", "args": {"content": f"the password is {word}"}},
            {"tool": "archival_memory_search", "args": {"query": word}},
            {"tool": "conversation_search", "args": {"query": word}},
            reply("ok"),
        ),
    )
    returns = [r["tool_return"] for r in of_type(result, "tool_return_message")]
    assert word in json.loads(returns[1])[0]["content"]
    assert any(word in (hit["content"] or "") for hit in json.loads(returns[2])["results"])


@pytest.mark.parametrize(
    ("rules", "steps", "expected_calls", "expected_statuses"),
    [
        pytest.param(
            [{"type": "run_first", "tool_name": "conversation_search"}],
            [reply("too early"), SEARCH, reply("now")],
            ["send_message", "conversation_search"],
            ["error", "success"],
            id="run_first",
        ),
        pytest.param(
            [{"type": "exit_loop", "tool_name": "conversation_search"}],
            [SEARCH, reply("never")],
            ["conversation_search"],
            ["success"],
            id="exit_loop",
        ),
        pytest.param(
            [{"type": "continue_loop", "tool_name": "conversation_search"}],
            [{**SEARCH, "heartbeat": False}, reply("after")],
            ["conversation_search"],
            ["success"],
            id="continue_loop",
        ),
        pytest.param(
            [
                {
                    "type": "constrain_child_tools",
                    "tool_name": "conversation_search",
                    "children": ["archival_memory_search"],
                }
            ],
            [
                SEARCH,
                reply("refused"),
                {"tool": "archival_memory_search", "args": {"query": "q"}},
                reply("ok"),
            ],
            ["conversation_search", "send_message", "archival_memory_search"],
            ["success", "error", "success"],
            id="constrain_child_tools",
        ),
        pytest.param(
            [
                {
                    "type": "max_count_per_step",
                    "tool_name": "conversation_search",
                    "max_count_limit": 1,
                }
            ],
            [SEARCH, SEARCH, reply("ok")],
            ["conversation_search", "conversation_search"],
            ["success", "error"],
            id="max_count_per_step",
        ),
        pytest.param(
            [{"type": "required_before_exit", "tool_name": "archival_memory_search"}],
            [
                reply("leaving"),
                {"tool": "archival_memory_search", "args": {"query": "q"}},
                reply("bye"),
            ],
            ["archival_memory_search"],
            ["success"],
            id="required_before_exit",
        ),
        pytest.param(
            # A plain answer (no tool call) with a required tool uncalled does not end the
            # turn either: the model is told what is missing, as Letta's loop tells it.
            [{"type": "required_before_exit", "tool_name": "archival_memory_search"}],
            [
                {"text": "all done"},
                {"tool": "archival_memory_search", "args": {"query": "q"}},
                reply("bye"),
            ],
            ["archival_memory_search"],
            ["success"],
            id="required_before_exit_after_a_plain_answer",
        ),
    ],
)
def test_tool_rules(
    http: httpx.Client,
    rules: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    expected_calls: list[str],
    expected_statuses: list[str],
) -> None:
    agent = make_agent(http, tool_rules=rules)
    result = send(http, agent["id"], script(*steps))
    calls = [m["tool_call"]["name"] for m in of_type(result, "tool_call_message")]
    statuses = [m["status"] for m in of_type(result, "tool_return_message")]
    assert calls == expected_calls
    assert statuses == expected_statuses
    # A turn a terminal rule ended says so, as Letta's loop does; every other one ended itself.
    ended_by_rule = rules[0]["type"] == "exit_loop"
    assert result["stop_reason"]["stop_reason"] == ("tool_rule" if ended_by_rule else "end_turn")


def test_a_turn_that_never_calls_a_required_tool_runs_out_of_steps(http: httpx.Client) -> None:
    """Plain answers with a tool required before exit still uncalled: the turn goes on to
    its last step and ends `max_steps`, as Letta's loop does, not as if it had ended."""
    rules = [{"type": "required_before_exit", "tool_name": "archival_memory_search"}]
    agent = make_agent(http, tool_rules=rules)
    result = send(http, agent["id"], script({"text": "done"}, {"text": "still done"}), max_steps=2)
    assert result["stop_reason"]["stop_reason"] == "max_steps"
    assert not of_type(result, "tool_call_message")


def test_prefilled_rule_args_replace_the_models_and_a_fixed_call_is_not_retried(
    http: httpx.Client,
) -> None:
    """Letta's InitToolRule `args`: the rule's values win over the model's. When every
    required argument is fixed and the call fails, the rules move on instead of asking for
    the same failing call until max_steps."""
    agent = make_agent(
        http,
        memory_blocks=[{"label": "board", "value": "task-1: open"}],
        tool_rules=[
            {
                "type": "run_first",
                "tool_name": "memory_replace",
                "args": {"label": "board", "old_str": "task-1: open", "new_str": "task-1: done"},
            },
            {
                "type": "constrain_child_tools",
                "tool_name": "memory_replace",
                "children": ["send_message"],
            },
        ],
        tools=["memory_replace"],
    )
    wrong = {"tool": "memory_replace", "args": {"label": "board", "old_str": "?", "new_str": "!"}}
    first = send(http, agent["id"], script(wrong, reply("updated")))
    assert [m["status"] for m in of_type(first, "tool_return_message")] == ["success"]
    call = json.loads(of_type(first, "tool_call_message")[0]["tool_call"]["arguments"])
    assert call["old_str"] == "task-1: open"
    assert call["new_str"] == "task-1: done"
    assert block_value(http, agent["id"], "board") == "task-1: done"

    again = send(http, agent["id"], script(wrong, reply("nothing left to change")))
    assert [m["status"] for m in of_type(again, "tool_return_message")] == ["error"]
    assert [m["content"] for m in of_type(again, "assistant_message")] == ["nothing left to change"]
    assert again["usage"]["step_count"] == 2
