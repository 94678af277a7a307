"""A real turn on the embedded model through the server: its tool call parses and runs."""

import json
from typing import Any

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


def test_a_response_format_shapes_the_embedded_models_reply(client: Any) -> None:
    """letta-client 1.x `model_settings.response_format` on the embedded model: the assistant
    message is JSON of the schema (a grammar, not a hope)."""
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "sunny": {"type": "boolean"}},
        "required": ["city", "sunny"],
    }
    agent = client.agents.create(
        name="json-agent",
        model="local/smollm2-135m",
        include_base_tools=False,
        tools=["send_message"],
        model_settings={
            "provider_type": "openai",
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "w", "schema": schema},
            },
        },
    )
    response = client.agents.messages.create(agent.id, input="What is the weather in Paris?")
    replies = [m for m in response.messages if m.message_type == "assistant_message"]
    assert replies
    value = json.loads(replies[0].content)
    assert set(value) == {"city", "sunny"}
    assert isinstance(value["sunny"], bool)
