"""Context compilation: the system prompt carries the blocks; history regroups into turns."""

import json

from troupe.agent.exchanges import (
    estimate_tokens,
    first_fitting,
    history_messages,
    split_exchanges,
)
from troupe.agent.prompt import Offer, render_system_prompt, tool_specs
from troupe.store.tables import BlockRow, MessageRow
from troupe.tools.core import core_registry

REGISTRY = core_registry()


def offers(*schemas: dict) -> list[Offer]:
    """The schemas offered as the loop offers them: built-ins as their records say."""
    return [Offer.of(schema, REGISTRY.get(schema["name"])) for schema in schemas]


def _row(seq: int, message_type: str, step: str | None = None, **fields: object) -> MessageRow:
    return MessageRow(
        id=f"message-{seq}", seq=seq, message_type=message_type, step_id=step, **fields
    )


def test_system_prompt_renders_each_block_with_usage_and_read_only_marker() -> None:
    blocks = [
        BlockRow(
            label="persona", value="I help.", char_limit=100, read_only=True, description=None
        ),
        BlockRow(
            label="team_tasks", value="{}", char_limit=50, read_only=False, description="tasks"
        ),
    ]
    prompt = render_system_prompt("You are an agent.", blocks)
    assert prompt.startswith("You are an agent.")
    assert '<persona chars="7/100" read_only>' in prompt
    assert '<team_tasks chars="2/50">' in prompt
    assert "<description>tasks</description>" in prompt


def test_heartbeat_flag_is_offered_except_on_turn_ending_tools() -> None:
    schema = {
        "name": "search",
        "description": "d",
        "parameters": {"type": "object", "properties": {}},
    }
    reply = {
        "name": "send_message",
        "description": "d",
        "parameters": {"type": "object", "properties": {}},
    }
    specs = {s.name: s for s in tool_specs(offers(schema, reply))}
    assert "request_heartbeat" in specs["search"].parameters["properties"]
    assert "request_heartbeat" not in specs["send_message"].parameters["properties"]


def test_one_model_reply_becomes_one_assistant_turn_with_its_results() -> None:
    rows = [
        _row(1, "user_message", content="hi"),
        _row(2, "reasoning_message", "s1", content="thinking"),
        _row(
            3,
            "tool_call_message",
            "s1",
            tool_call_id="c1",
            tool_name="search",
            tool_arguments='{"q": 1}',
        ),
        _row(
            4, "tool_return_message", "s1", tool_call_id="c1", tool_name="search", content="found"
        ),
        _row(5, "assistant_message", "s2", content="hello", tool_call_id="c2"),
    ]
    messages = history_messages(rows)
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert messages[1].content == "thinking"
    assert messages[1].tool_calls[0].name == "search"
    assert messages[2].tool_call_id == "c1"
    assert messages[3].tool_calls[0].name == "send_message"
    assert json.loads(messages[3].tool_calls[0].arguments) == {"message": "hello"}
    assert messages[4].tool_call_id == "c2"


def test_trimming_drops_whole_exchanges_from_the_oldest() -> None:
    rows = []
    for i in range(20):
        rows.append(_row(2 * i + 1, "user_message", content="x" * 400))
        rows.append(
            _row(2 * i + 2, "assistant_message", f"s{i}", content="y" * 400, tool_call_id=f"c{i}")
        )
    exchanges = split_exchanges(rows)
    first = first_fitting(exchanges, budget_tokens=1000)
    kept = [message for exchange in exchanges[first:] for message in exchange.messages]
    everything = history_messages(rows)
    assert kept[0].role == "user"
    assert 0 < len(kept) < len(everything)
    assert kept == everything[len(everything) - len(kept) :]
    assert (
        estimate_tokens(kept)
        <= 1000
        < estimate_tokens(everything[len(everything) - len(kept) - 3 :])
    )


def test_parameters_a_rule_prefills_are_not_offered_to_the_model() -> None:
    schemas = [REGISTRY.get(n).json_schema for n in ("memory_replace", "send_message")]
    specs = tool_specs(offers(*schemas), ["team_tasks"], {"memory_replace": ["label", "old_str"]})
    edit = specs[0].parameters
    assert set(edit["properties"]) == {"new_str", "request_heartbeat"}
    assert edit["required"] == ["new_str"]
    assert set(specs[1].parameters["properties"]) == {"message"}
