"""Running a tool directly: one of an agent's tools (letta-client 1.x
`agents.tools.run`), or a function from source (0.1.x `tools.run_tool_from_source`), in the
sandbox with its limits, answering the return, stdout, stderr and status."""

import json
from typing import Any

import httpx
from letta_client import Letta

from tests.server.helpers import SCRIPTED, script, unique

WHOAMI = '''
import os
import sys

def whoami_{suffix}(greeting: str) -> str:
    """Say who runs this tool.

    Args:
        greeting: How to begin.
    """
    print("out line")
    print("err line", file=sys.stderr)
    return greeting + " " + os.environ.get("TROUPE_AGENT_ID", "nobody")
'''

FAILING = '''
def explode() -> str:
    """Always fails."""
    raise ValueError("boom")
'''

WHOSE = '''
def whose_{suffix}(agent_state: "AgentState") -> str:
    """Say which agent calls this tool (Letta's reserved `agent_state` argument)."""
    if agent_state is None:
        return "no agent"
    return agent_state.id + " " + agent_state.name
'''

ORDERS = '''
from typing import List
from pydantic import BaseModel, Field


class Order(BaseModel):
    order_number: int = Field(..., description="The order number to check on.")
    customer_name: str = Field(..., description="The customer name to check on.")

def check_orders_{suffix}(orders: List[Order]):
    """
    Check status of a provided list of orders

    Args:
        orders (List[Order]): List of orders to check

    Returns:
        str: The status of the order (e.g. cancelled, refunded, processed, processing, shipping).
    """
    return ", ".join(f"{{o['customer_name']}}: processing" for o in orders)
'''


def whoami_tool(client: Letta) -> Any:
    suffix = unique("w").replace("-", "_")
    return client.tools.upsert(source_code=WHOAMI.format(suffix=suffix))


def test_an_agents_tool_runs_in_the_sandbox_as_that_agent(client: Letta) -> None:
    tool = whoami_tool(client)
    agent = client.agents.create(name=unique("runner"), model=SCRIPTED, tool_ids=[tool.id])
    result = client.agents.tools.run(tool.name, agent_id=agent.id, args={"greeting": "hi"})
    assert result.status == "success"
    assert result.func_return == f"hi {agent.id}"
    assert result.stdout == ["out line\n"]
    assert result.stderr == ["err line\n"]
    history = client.agents.messages.list(agent.id).items
    assert [m.message_type for m in history] == ["system_message"]  # nothing was written


def test_a_built_in_tool_runs_directly_too(client: Letta) -> None:
    agent = client.agents.create(
        name=unique("mem"), model=SCRIPTED, memory_blocks=[{"label": "human", "value": "Ann"}]
    )
    result = client.agents.tools.run(
        "core_memory_append", agent_id=agent.id, args={"label": "human", "content": "likes tea"}
    )
    assert result.status == "success"
    assert "likes tea" in client.agents.blocks.retrieve("human", agent_id=agent.id).value


def test_bad_runs_are_clear(client: Letta, http: httpx.Client) -> None:
    tool = whoami_tool(client)
    agent = client.agents.create(name=unique("runner"), model=SCRIPTED, tool_ids=[tool.id])
    url = f"/v1/agents/{agent.id}/tools"
    wrong = http.post(f"{url}/{tool.name}/run", json={"args": {"nope": 1}})
    assert wrong.status_code == 200
    assert wrong.json()["status"] == "error"
    assert "missing required arguments: greeting" in wrong.json()["func_return"]
    assert http.post(f"{url}/not_attached/run", json={"args": {}}).status_code == 404
    assert http.post("/v1/agents/agent-missing/tools/x/run", json={"args": {}}).status_code == 404


def test_legacy_sdk_runs_a_function_from_source(legacy_client: Any) -> None:
    source = WHOAMI.format(suffix="legacy")
    result = legacy_client.tools.run_tool_from_source(
        source_code=source, args={"greeting": "hello"}, env_vars={"TROUPE_AGENT_ID": "me"}
    )
    assert result.message_type == "tool_return_message"
    assert result.status == "success"
    assert result.tool_return == "hello me"
    assert result.stdout == ["out line\n"]
    assert result.stderr == ["err line\n"]


def test_a_failing_function_from_source_reports_the_error(http: httpx.Client) -> None:
    response = http.post("/v1/tools/run", json={"source_code": FAILING, "args": {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "error"
    assert "boom" in body["tool_return"]
    bad = http.post("/v1/tools/run", json={"source_code": "x = 1", "args": {}})
    assert bad.status_code == 422


def test_a_tool_taking_agent_state_gets_its_calling_agent(client: Letta) -> None:
    """Letta's custom-tools guide: `def get_agent_id(agent_state: "AgentState")` answers
    `agent_state.id`; the parameter is the server's to fill, not the model's."""
    tool = client.tools.upsert(source_code=WHOSE.format(suffix=unique("w").replace("-", "_")))
    assert tool.json_schema["parameters"]["properties"] == {}
    agent = client.agents.create(name=unique("caller"), model=SCRIPTED, tool_ids=[tool.id])
    expected = f"{agent.id} {agent.name}"
    turn = client.agents.messages.create(
        agent_id=agent.id,
        messages=[{"role": "user", "content": script({"tool": tool.name, "args": {}})}],
    )
    returns = [m.tool_return for m in turn.messages if m.message_type == "tool_return_message"]
    assert returns[0] == expected
    # Even when the model sends one itself, the tool gets its calling agent.
    forged = client.agents.tools.run(tool.name, agent_id=agent.id, args={"agent_state": "x"})
    assert (forged.status, forged.func_return) == ("success", expected)
    # Run from source, on no agent's behalf, it gets None (as in Letta).
    unbound = client.post(
        "/v1/tools/run",
        body={"source_code": WHOSE.format(suffix="free"), "args": {}},
        cast_to=dict[str, Any],
    )
    assert (unbound["status"], unbound["tool_return"]) == ("success", "no agent")


def test_a_tool_whose_parameters_are_pydantic_models_shows_the_model_their_fields(
    legacy_client: Any,
) -> None:
    """Letta's custom-tools guide: a tool from a file with `class Order(BaseModel)` and
    `orders: List[Order]` (0.1.x `tools.create(source_code=...)`)."""
    source = ORDERS.format(suffix=unique("o").replace("-", "_"))
    tool = legacy_client.tools.create(source_code=source)
    items = tool.json_schema["parameters"]["properties"]["orders"]["items"]
    assert items["type"] == "object"
    assert items["properties"]["order_number"] == {
        "type": "integer",
        "description": "The order number to check on.",
    }
    assert items["required"] == ["order_number", "customer_name"]
    agent = legacy_client.agents.create(
        name=unique("orders"), model=SCRIPTED, embedding="letta/letta-free", tool_ids=[tool.id]
    )
    orders = [{"order_number": 1, "customer_name": "Ann"}]
    turn = legacy_client.agents.messages.create(
        agent_id=agent.id,
        messages=[
            {"role": "user", "content": script({"tool": tool.name, "args": {"orders": orders}})}
        ],
    )
    returns = [m.tool_return for m in turn.messages if m.message_type == "tool_return_message"]
    assert returns[0] == "Ann: processing"


SILENT = '''
def silent_{suffix}(word: str) -> str:
    """Answer without printing anything.

    Args:
        word: What to answer.
    """
    return word
'''


def test_a_tool_that_prints_nothing_shows_empty_output_lists(
    client: Letta, legacy_client: Any, http: httpx.Client
) -> None:
    """Letta's sandbox answers `stdout=[]`, `stderr=[]` when nothing was printed (not null),
    in a direct run and in the tool return a turn stores and streams alike."""
    tool = client.tools.upsert(source_code=SILENT.format(suffix=unique("s").replace("-", "_")))
    agent = client.agents.create(name=unique("quiet"), model=SCRIPTED, tool_ids=[tool.id])
    direct = client.agents.tools.run(tool.name, agent_id=agent.id, args={"word": "hush"})
    assert (direct.func_return, direct.stdout, direct.stderr) == ("hush", [], [])
    legacy = legacy_client.tools.run_tool_from_source(
        source_code=SILENT.format(suffix="legacy"), args={"word": "hush"}
    )
    assert (legacy.tool_return, legacy.stdout, legacy.stderr) == ("hush", [], [])

    turn = script(
        {"tool": tool.name, "args": {"word": "hush"}},
        {"tool": "send_message", "args": {"message": "ok"}},
    )
    answer = http.post(
        f"/v1/agents/{agent.id}/messages", json={"messages": [{"role": "user", "content": turn}]}
    ).json()
    (returned,) = [m for m in answer["messages"] if m["message_type"] == "tool_return_message"]
    assert (returned["stdout"], returned["stderr"]) == ([], [])
    history = client.agents.messages.list(agent.id, order="asc").items
    (stored,) = [m for m in history if m.message_type == "tool_return_message"]
    assert (stored.stdout, stored.stderr) == ([], [])
    with http.stream(
        "POST",
        f"/v1/agents/{agent.id}/messages/stream",
        json={"messages": [{"role": "user", "content": turn}]},
    ) as stream:
        lines = [line[6:] for line in stream.iter_lines() if line.startswith("data: {")]
    events = [json.loads(line) for line in lines]
    (streamed,) = [e for e in events if e.get("message_type") == "tool_return_message"]
    assert (streamed["stdout"], streamed["stderr"]) == ([], [])


def test_a_built_in_tool_return_keeps_null_output(client: Letta, http: httpx.Client) -> None:
    """Built-in tools run in the server, not the sandbox: Letta leaves their output null."""
    agent = client.agents.create(name=unique("search"), model=SCRIPTED)
    turn = script(
        {"tool": "conversation_search", "args": {"query": "x"}},
        {"tool": "send_message", "args": {"message": "ok"}},
    )
    answer = http.post(
        f"/v1/agents/{agent.id}/messages", json={"messages": [{"role": "user", "content": turn}]}
    ).json()
    (returned,) = [m for m in answer["messages"] if m["message_type"] == "tool_return_message"]
    assert (returned["stdout"], returned["stderr"]) == (None, None)
