"""Agent Files (.af) through both SDK lines on a real server: Letta's public example files
import unchanged and answer; an export imports back as the same agents; bad files import
nothing."""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import script, unique
from tests.support.servers import ServerProcess

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "agent_files"
WORKFLOW = EXAMPLES / "outreach_workflow_agent.af"


def upload(path: Path) -> tuple[str, io.BytesIO, str]:
    return (path.name, io.BytesIO(path.read_bytes()), "application/json")


def test_letta_workflow_example_imports_and_runs_its_tools(client: Any, http: httpx.Client) -> None:
    suffix = unique("x")
    imported = client.agents.import_file(
        file=upload(WORKFLOW), model="test/scripted", name=f"outreach-{suffix}"
    )
    [agent_id] = imported.agent_ids
    agent = client.agents.retrieve(agent_id)
    assert agent.name == f"outreach-{suffix}"
    assert agent.model == "test/scripted"
    assert {t.name for t in agent.tools} == {
        "reject", "send_email", "retrieve_candidate", "evaluate_candidate",
    }  # fmt: skip
    assert [r.type for r in agent.tool_rules][:3] == [
        "run_first",
        "constrain_child_tools",
        "conditional",
    ]
    assert agent.llm_config.model_endpoint != "https://api.openai.com/v1"

    steps = [{"tool": "retrieve_candidate", "args": {"candidate_name": "Ada"}}, {"text": "ok"}]
    response = http.post(
        f"/v1/agents/{agent_id}/messages",
        json={"messages": [{"role": "user", "content": script(*steps)}]},
    )
    assert response.status_code == 200, response.text
    returns = [m for m in response.json()["messages"] if m["message_type"] == "tool_return_message"]
    assert "Ada is a software engineer" in returns[0]["tool_return"]
    # Unchanged and with no model asked: the file's OpenAI handle is not configured here, so
    # the agent runs on the embedded model; the tools of the same names are reused as they are.
    again = client.agents.import_file(
        file=upload(WORKFLOW), append_copy_suffix=True, override_existing_tools=False
    )
    copy = client.agents.retrieve(again.agent_ids[0])
    assert copy.name == "outreach_workflow_agent_copy"
    assert copy.model == "local/smollm2-135m"
    assert {t.id for t in copy.tools} == {t.id for t in agent.tools}


TOOL_SOURCE = '''
def shout(text: str) -> str:
    """Say it louder.

    Args:
        text: What to say.
    """
    return text.upper() + "!"
'''


@pytest.fixture
def empty_server(server: ServerProcess, database_factory: Any, tmp_path: Path) -> Iterator[str]:
    """A second, empty server on the session server's backend."""
    backend = "sqlite" if server.database_url.startswith("sqlite") else "postgres"
    proc = ServerProcess(database_factory(backend), tmp_path)
    proc.start()
    try:
        yield proc.url
    finally:
        proc.stop()


def _team(client: Any) -> tuple[Any, Any]:
    """Two agents sharing a block, with tags, a user tool, tool rules and a history."""
    client.tools.upsert(source_code=TOOL_SOURCE)
    shared = client.blocks.create(label="team", value="we ship on fridays")
    rules = [{"type": "exit_loop", "tool_name": "shout"}]
    first, second = (
        client.agents.create(
            name=unique(who),
            model="test/scripted",
            memory_blocks=[{"label": "persona", "value": f"I am {who}"}],
            block_ids=[shared.id],
            tools=["shout"],
            tool_rules=rules,
            tags=["team", who],
        )
        for who in ("lead", "helper")
    )
    steps = [
        {"tool": "conversation_search", "args": {"query": "x"}},
        {"tool": "shout", "args": {"text": "hi"}},
    ]
    client.agents.messages.create(first.id, messages=[{"role": "user", "content": script(*steps)}])
    client.agents.messages.create(second.id, messages=[{"role": "user", "content": "hello"}])
    return first, second


def _portrait(client: Any, agent_id: str) -> dict[str, Any]:
    """What an agent is, ids aside."""
    agent = client.agents.retrieve(agent_id)
    history = client.agents.messages.list(agent_id, order="asc", limit=100)
    return {
        "name": agent.name,
        "tags": sorted(agent.tags),
        "tools": sorted(t.name for t in agent.tools),
        "rules": [r.model_dump(exclude_none=True) for r in agent.tool_rules],
        "blocks": sorted((b.label, b.value) for b in agent.memory.blocks),
        "system": agent.system,
        "messages": [
            (m.message_type, getattr(m, "content", None), getattr(m, "tool_return", None))
            for m in history
        ],
    }


def test_a_team_travels_to_an_empty_server(client: Any, empty_server: str) -> None:
    from letta_client import Letta

    first, second = _team(client)
    text = client.agents.export_file(first.id)
    exported = json.loads(text)
    assert [a["name"] for a in exported["agents"]] == [first.name, second.name]
    assert len(exported["blocks"]) == 3  # two personas and the one shared block

    other = Letta(base_url=empty_server)
    imported = other.agents.import_file(
        file=("team.af", io.BytesIO(text.encode()), "application/json")
    )
    assert len(imported.agent_ids) == 2
    for original, copy in zip((first, second), imported.agent_ids, strict=True):
        assert _portrait(other, copy) == _portrait(client, original.id)
    shared = [
        {b.id for b in other.agents.retrieve(a).memory.blocks if b.label == "team"}
        for a in imported.agent_ids
    ]
    assert shared[0] == shared[1]
    # The imported lead goes on answering.
    reply = other.agents.messages.create(
        imported.agent_ids[0], messages=[{"role": "user", "content": "again"}]
    )
    assert any(m.message_type == "assistant_message" for m in reply.messages)


def test_legacy_sdk_exports_and_imports(legacy_client: Any, client: Any) -> None:
    agent = client.agents.create(name=unique("old"), model="test/echo", tags=["legacy"])
    client.agents.messages.create(agent.id, messages=[{"role": "user", "content": "remember"}])
    exported = legacy_client.agents.export_agent_serialized(agent_id=agent.id)
    text = json.dumps(exported.dict(), default=str)  # what a 0.1.x script writes to disk
    state = legacy_client.agents.import_agent_serialized(
        file=("a.af", io.BytesIO(text.encode()), "application/json"), append_copy_suffix=True
    )
    assert (state.name, state.tags, state.model) == (agent.name + "_copy", ["legacy"], "test/echo")
    assert state.id != agent.id
    history = client.agents.messages.list(state.id, order="asc")
    assert [m.content for m in history if m.message_type == "user_message"] == ["remember"]


def _import(http: httpx.Client, document: Any, **form: str) -> httpx.Response:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return http.post("/v1/agents/import", files={"file": ("x.af", data)}, data=form)


def test_bad_files_get_a_clear_4xx_and_import_nothing(http: httpx.Client) -> None:
    base = json.loads(WORKFLOW.read_text())
    name = unique("hostile")
    base["agents"][0]["name"] = name

    def variant(change: Any) -> dict[str, Any]:
        document = json.loads(json.dumps(base))
        change(document)
        return document

    def bad_source(d: dict[str, Any]) -> None:
        d["tools"][0]["source_code"] = "def evaluate_candidate(:\n"
        d["tools"][1]["name"] = f"fresh_{name.replace('-', '_')}"  # would be new, if imported

    cases = {
        "not JSON": b"\x00{not json",
        "no agents list": {"agent": []},
        "source that does not parse": variant(bad_source),
        "colliding tool ids": variant(lambda d: d["tools"].append(dict(d["tools"][0]))),
        "unknown block": variant(lambda d: d["agents"][0]["block_ids"].append("block-9")),
        "two blocks, one id": variant(
            lambda d: d["blocks"].extend([{"id": "b", "label": "x", "value": ""}] * 2)
        ),
        "a block over its limit": variant(
            lambda d: d["blocks"].append({"id": "b", "label": "x", "value": "abc", "limit": 2})
        ),
    }
    for case, document in cases.items():
        response = _import(http, document)
        assert response.status_code == 422, (case, response.text)
        assert "detail" in response.json(), case
    assert _import(http, base, secrets='{"KEY": "v"}').status_code == 422
    too_big = b" " * (8 * 1024 * 1024 + 1)
    assert _import(http, too_big).status_code == 413
    assert http.get("/v1/agents", params={"name": name}).json() == []
    fresh = f"fresh_{name.replace('-', '_')}"
    assert http.get("/v1/tools", params={"name": fresh}).json() == []
