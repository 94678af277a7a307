"""What a process keeps between an agent's turns (its history window, its tools) never
hides a change: rows another process stored, an edited tool, a detached one."""

from pathlib import Path
from typing import Any

import httpx

from tests.server.helpers import make_agent, of_type, script, send, unique
from tests.support.servers import ServerProcess

TRANSCRIPT = "test/function:tests.support.models:transcript"


def _reply(response: dict[str, Any]) -> str:
    return str(of_type(response, "assistant_message")[-1]["content"])


def test_turns_served_by_two_processes_each_see_the_whole_history(
    database_factory: Any, tmp_path: Path
) -> None:
    url = database_factory("postgres")
    first = ServerProcess(url, tmp_path).start()
    second = ServerProcess(url, tmp_path).start()
    try:
        with (
            httpx.Client(base_url=first.url, timeout=60) as a,
            httpx.Client(base_url=second.url, timeout=60) as b,
        ):
            agent = make_agent(a, model=TRANSCRIPT)
            said: list[str] = []
            for n, http in enumerate([a, a, b, a, b, b, a]):
                said.append(f"message {n}")
                assert _reply(send(http, agent["id"], said[-1])) == " | ".join(said)
    finally:
        first.stop()
        second.stop()


TOOL = '''
def house_rule() -> str:
    """Say which version of the rule is in force."""
    return "{version}"
'''


def test_a_tool_edited_between_turns_runs_as_edited(http: httpx.Client) -> None:
    name = unique("rule").replace("-", "_")
    source = TOOL.replace("house_rule", name)
    tool = http.post("/v1/tools/", json={"source_code": source.format(version="first")})
    assert tool.status_code == 200, tool.text
    agent = make_agent(http, tool_ids=[tool.json()["id"]])
    call = script({"tool": name, "args": {}}, {"tool": "send_message", "args": {"message": "ok"}})

    def returned() -> str:
        answer = send(http, agent["id"], call)
        return str(of_type(answer, "tool_return_message")[0]["tool_return"])

    assert returned() == "first"
    edited = http.patch(
        f"/v1/tools/{tool.json()['id']}", json={"source_code": source.format(version="second")}
    )
    assert edited.status_code == 200, edited.text
    assert returned() == "second"


def test_a_tool_detached_between_turns_is_no_longer_offered(http: httpx.Client) -> None:
    agent = make_agent(http, tools=["conversation_search"])
    search = script({"tool": "conversation_search", "args": {"query": "x"}},
                    {"tool": "send_message", "args": {"message": "ok"}})  # fmt: skip
    first = send(http, agent["id"], search)
    assert of_type(first, "tool_return_message")[0]["status"] == "success"
    tool_id = next(t["id"] for t in http.get(f"/v1/agents/{agent['id']}/tools").json()
                   if t["name"] == "conversation_search")  # fmt: skip
    detached = http.patch(f"/v1/agents/{agent['id']}/tools/detach/{tool_id}")
    assert detached.status_code == 200, detached.text
    second = send(http, agent["id"], search)
    refusal = of_type(second, "tool_return_message")[0]
    assert refusal["status"] == "error"
    assert "no tool named 'conversation_search'" in refusal["tool_return"]
