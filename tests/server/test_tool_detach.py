"""Detaching a tool succeeds, as in Letta, and takes what the agent's tool rules say of it
with it: a rule would otherwise name a tool the agent no longer has."""

from typing import Any

import httpx

from tests.server.helpers import SCRIPTED, script, send
from troupe.services.attachments import rules_without_tool

SEARCH = "conversation_search"
RULES: list[dict[str, Any]] = [
    {"type": "run_first", "tool_name": SEARCH},
    {"type": "constrain_child_tools", "tool_name": "send_message", "children": [SEARCH]},
    {
        "type": "constrain_child_tools",
        "tool_name": "archival_memory_search",
        "children": [SEARCH, "send_message"],
    },
    {
        "type": "conditional",
        "tool_name": "archival_memory_insert",
        "child_output_mapping": {"found": SEARCH, "missing": "send_message"},
    },
    {"type": "exit_loop", "tool_name": "send_message"},
]
LEFT = [
    {
        "type": "constrain_child_tools",
        "tool_name": "archival_memory_search",
        "children": ["send_message"],
    },
    {
        "type": "conditional",
        "tool_name": "archival_memory_insert",
        "child_output_mapping": {"missing": "send_message"},
    },
    {"type": "exit_loop", "tool_name": "send_message"},
]


def rules_of(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    """The stored rules, with only the fields a request sets (SDKs add their defaults)."""
    rules = http.get(f"/v1/agents/{agent_id}").json()["tool_rules"]
    return [{k: v for k, v in rule.items() if v not in (None, {}, "")} for rule in rules]


def search_tool_id(agent: Any) -> str:
    return next(t.id for t in agent.tools if t.name == SEARCH)


def test_current_sdk_detaches_a_tool_and_its_rules(http: httpx.Client, client: Any) -> None:
    agent = client.agents.create(name="rules", model=SCRIPTED, tool_rules=RULES)
    detached = client.agents.tools.detach(search_tool_id(agent), agent_id=agent.id)
    assert SEARCH not in [t.name for t in detached.tools]
    assert SEARCH not in {r.tool_name for r in detached.tool_rules}
    assert rules_of(http, agent.id) == LEFT
    # The agent still works: no rule waits on the tool it lost.
    reply = send(http, agent.id, script({"tool": "send_message", "args": {"message": "hi"}}))
    assert reply["messages"][-1]["content"] == "hi"


def test_legacy_sdk_detaches_a_tool_and_its_rules(http: httpx.Client, legacy_client: Any) -> None:
    agent = legacy_client.agents.create(name="rules", tool_rules=RULES)
    legacy_client.agents.tools.detach(agent_id=agent.id, tool_id=search_tool_id(agent))
    assert rules_of(http, agent.id) == LEFT
    # Setting the tools checks the rules against them: they name none it lacks.
    kept = [t.id for t in agent.tools if t.name != SEARCH]
    again = legacy_client.agents.modify(agent_id=agent.id, tool_ids=kept)
    assert [t.id for t in again.tools] == kept


def test_a_conditional_rule_keeps_its_other_outcomes_and_goes_with_the_last() -> None:
    rule = {
        "type": "conditional",
        "tool_name": "decide",
        "child_output_mapping": {"yes": "a"},
        "default_child": "b",
    }
    assert rules_without_tool([rule], "a") == [{**rule, "child_output_mapping": {}}]
    assert rules_without_tool([rule], "b") == [{**rule, "default_child": None}]
    assert rules_without_tool(rules_without_tool([rule], "b"), "a") == []
    assert rules_without_tool([rule], "other") == [rule]
