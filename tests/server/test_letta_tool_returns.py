"""A user tool's return as Letta's server gives it back: a raised exception in Letta's words
with its traceback on stderr, and a return longer than the tool's `return_char_limit` cut."""

import ast
from typing import Any

from tests.server.helpers import SCRIPTED, script, unique

FAILING = '''
import sys


def _find(city: str) -> str:
    raise KeyError(f"no such city: {{city}}")


def {name}(city: str) -> str:
    """Look a city up.

    Args:
        city: the city
    """
    print("looking", city)
    print("about to fail", file=sys.stderr)
    return _find(city)
'''

LONG = '''
def {name}(n: int) -> str:
    """Say a lot.

    Args:
        n: how many characters
    """
    return "y" * n
'''


def _tool_name(prefix: str) -> str:
    return unique(prefix).replace("-", "_")


def _call(sdk: Any, agent_id: str, tool: str, args: dict[str, Any]) -> Any:
    response = sdk.agents.messages.create(
        agent_id=agent_id,
        messages=[
            {
                "role": "user",
                "content": script(
                    {"tool": tool, "args": args},
                    {"tool": "send_message", "args": {"message": "done"}},
                ),
            }
        ],
    )
    return next(m for m in response.messages if m.message_type == "tool_return_message")


def test_a_raising_tool_returns_lettas_error_text_with_its_traceback_on_stderr(
    client: Any, legacy_client: Any
) -> None:
    name = _tool_name("lookup")
    client.tools.create(source_code=FAILING.format(name=name))
    agent = client.agents.create(name=unique("a"), model=SCRIPTED, tools=[name])
    for sdk in (client, legacy_client):
        returned = _call(sdk, agent.id, name, {"city": "Atlantis"})
        assert returned.status == "error"
        assert returned.tool_return == (
            f"Error executing function {name}: KeyError: 'no such city: Atlantis'"
        )
        assert returned.stdout == ["looking Atlantis\n"]
        assert isinstance(returned.stderr, list)
        stderr = "\n".join(returned.stderr)
        assert stderr.startswith("about to fail")
        assert "Traceback" in stderr
        assert "in _find" in stderr
        assert 'raise KeyError(f"no such city: {city}")' in stderr


def test_a_return_over_the_tools_return_char_limit_is_cut_with_a_note(
    client: Any, legacy_client: Any
) -> None:
    name = _tool_name("chatty")
    client.tools.create(source_code=LONG.format(name=name), return_char_limit=50)
    agent = client.agents.create(name=unique("a"), model=SCRIPTED, tools=[name])
    cut = _call(client, agent.id, name, {"n": 120}).tool_return
    assert cut.startswith("y" * 50 + "...")
    assert "y" * 51 not in cut
    assert "return_char_limit of 50 characters; it had 120" in cut
    whole = _call(legacy_client, agent.id, name, {"n": 50}).tool_return
    assert whole == "y" * 50
    history = list(client.agents.messages.list(agent_id=agent.id, limit=100))
    assert cut in [m.tool_return for m in history if m.message_type == "tool_return_message"]


def test_waiting_and_broadcast_tools_return_lettas_agent_id_and_response(
    client: Any, legacy_client: Any
) -> None:
    team = unique("team")
    workers = [
        client.agents.create(name=unique("w"), model="test/echo", tags=[team]) for _ in range(2)
    ]
    boss = legacy_client.agents.create(
        name=unique("boss"), model=SCRIPTED, include_multi_agent_tools=True
    )
    asked = _call(
        client,
        boss.id,
        "send_message_to_agent_and_wait_for_reply",
        {"message": "status?", "other_agent_id": workers[0].id},
    )
    entry = ast.literal_eval(asked.tool_return)  # the text of a Python dict, as Letta's
    assert list(entry) == ["agent_id", "response"]
    assert entry["agent_id"] == workers[0].id
    assert len(entry["response"]) == 1
    assert "status?" in entry["response"][0]
    broadcast = _call(
        legacy_client,
        boss.id,
        "send_message_to_agents_matching_all_tags",
        {"message": "report", "tags": [team]},
    )
    assert broadcast.tool_return.startswith(f"[{{'agent_id': '{workers[0].id}', 'response': [")
    entries = ast.literal_eval(broadcast.tool_return)
    assert [e["agent_id"] for e in entries] == [w.id for w in workers]
    assert all("report" in e["response"][0] for e in entries)
