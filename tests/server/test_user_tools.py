"""User tools run in the sandbox: they can call this server back as their agent, and cannot
see its secrets or outlive their time limit."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, script, send
from tests.support.servers import ServerProcess

KEY = "server-secret-key"

CALL_BACK = '''
import os
import httpx

def rename_me(new_name: str) -> str:
    """Rename the calling agent through the troupe API.

    Args:
        new_name: The agent's new name.
    """
    url, agent, token = os.environ["TROUPE_URL"], os.environ["TROUPE_AGENT_ID"], os.environ["TROUPE_API_KEY"]
    response = httpx.patch(f"{url}/v1/agents/{agent}", json={"name": new_name},
                           headers={"Authorization": f"Bearer {token}"})
    print("status", response.status_code)
    return response.json()["name"]
'''

SPIN = '''
def spin() -> str:
    """Never returns."""
    while True:
        pass
'''

SNOOP = '''
import os

def snoop() -> str:
    """Report what the environment gives away."""
    import sys
    print("looking around", file=sys.stderr)
    found = {k: v for k, v in os.environ.items()}
    try:
        found["server_environ"] = open(f"/proc/{os.getppid()}/environ").read()
    except OSError as exc:
        found["server_environ"] = f"denied: {exc.strerror}"
    return __import__("json").dumps(found)
'''


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def keyed_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {
        "TROUPE_API_KEY": KEY,
        "TROUPE_TOOL_TIMEOUT": "2",
        "OPENAI_API_KEY": "sk-must-not-leak",
        "ANTHROPIC_API_KEY": "sk-ant-must-not-leak",
    }
    server = ServerProcess(database_factory(request.param), tmp_path_factory.mktemp("k"), env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(keyed_server: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=keyed_server.url, headers=headers, timeout=60) as client:
        yield client


def _tool(api: httpx.Client, source: str) -> dict[str, Any]:
    response = api.put("/v1/tools/", json={"source_code": source})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_user_tool_calls_the_api_back_as_its_agent(api: httpx.Client) -> None:
    tool = _tool(api, CALL_BACK)
    assert tool["json_schema"]["parameters"]["required"] == ["new_name"]
    agent = make_agent(api, tools=["rename_me"])
    result = send(
        api,
        agent["id"],
        script(
            {"tool": "rename_me", "args": {"new_name": "renamed-by-tool"}},
            {"tool": "send_message", "args": {"message": "ok"}},
        ),
    )
    returned = of_type(result, "tool_return_message")[0]
    assert returned["status"] == "success", returned
    assert returned["tool_return"] == "renamed-by-tool"
    assert returned["stdout"] == ["status 200\n"]
    assert api.get(f"/v1/agents/{agent['id']}").json()["name"] == "renamed-by-tool"


def test_a_tool_that_never_returns_is_stopped_at_its_time_limit(api: httpx.Client) -> None:
    _tool(api, SPIN)
    agent = make_agent(api, tools=["spin"])
    result = send(
        api,
        agent["id"],
        script(
            {"tool": "spin", "args": {}}, {"tool": "send_message", "args": {"message": "moved on"}}
        ),
    )
    returned = of_type(result, "tool_return_message")[0]
    assert returned["status"] == "error"
    assert "timed out after 2 s" in returned["tool_return"]
    assert of_type(result, "assistant_message")[0]["content"] == "moved on"


def test_a_tool_finds_no_server_secret(api: httpx.Client) -> None:
    _tool(api, SNOOP)
    agent = make_agent(api, tools=["snoop"])
    result = send(
        api,
        agent["id"],
        script({"tool": "snoop", "args": {}}, {"tool": "send_message", "args": {"message": "ok"}}),
    )
    returned = of_type(result, "tool_return_message")[0]
    found = json.loads(returned["tool_return"])
    leaked = [v for v in found.values() if KEY in v or "must-not-leak" in v]
    assert leaked == []
    assert not any("DATABASE" in k for k in found)
    assert found["TROUPE_AGENT_ID"] == agent["id"]
    assert found["TROUPE_API_KEY"].startswith("tt1.")  # a scoped token, not the server key
    assert found["server_environ"].startswith("denied")
    assert returned["stderr"] == ["looking around\n"]


def test_requests_without_the_key_are_refused_and_a_tampered_tool_token_too(
    keyed_server: ServerProcess, api: httpx.Client
) -> None:
    assert httpx.get(f"{keyed_server.url}/v1/agents/").status_code == 401
    _tool(api, SNOOP)
    agent = make_agent(api, tools=["snoop"])
    result = send(
        api,
        agent["id"],
        script({"tool": "snoop", "args": {}}, {"tool": "send_message", "args": {"message": "ok"}}),
    )
    token = json.loads(of_type(result, "tool_return_message")[0]["tool_return"])["TROUPE_API_KEY"]
    good = httpx.get(f"{keyed_server.url}/v1/agents/", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = httpx.get(
        f"{keyed_server.url}/v1/agents/", headers={"Authorization": f"Bearer {tampered}"}
    )
    assert bad.status_code == 401
    assert bad.json()["detail"].startswith("this troupe server needs an API key")
