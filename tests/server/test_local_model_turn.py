"""A real turn on the embedded model through the server: its tool call parses and runs."""

import json

import httpx
import pytest

from tests.server.helpers import of_type, send

pytestmark = pytest.mark.slow


def test_a_real_turn_on_the_embedded_model_makes_a_call_that_is_executed(
    http: httpx.Client,
) -> None:
    agent = http.post(
        "/v1/agents/",
        json={
            "name": "local-agent",
            "memory_blocks": [{"label": "human", "value": "name: unknown"}],
            "tool_rules": [
                {"type": "run_first", "tool_name": "core_memory_append"},
                {
                    "type": "constrain_child_tools",
                    "tool_name": "core_memory_append",
                    "children": ["send_message"],
                },
            ],
        },
    ).json()
    assert agent["model"] == "local/smollm2-135m"
    result = send(http, agent["id"], "Hi! My name is Ada and I like green tea.", max_steps=4)
    call = of_type(result, "tool_call_message")[0]["tool_call"]
    assert call["name"] == "core_memory_append"
    arguments = json.loads(call["arguments"])
    assert arguments["label"] == "human"
    assert of_type(result, "tool_return_message")[0]["status"] == "success"
    block = http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert block["value"] == f"name: unknown\n{arguments['content']}"
    assert of_type(result, "assistant_message"), "the agent replies after saving"
    assert result["stop_reason"]["stop_reason"] == "end_turn"
