"""An agent's variables for its tools (Letta's `secrets`, formerly
`tool_exec_environment_variables`): set at create, replaced by update, shown with the agent,
found by the agent's own custom tools in their environment (and by no other agent's), gone
with the agent, carried by Agent Files as names; bad names are refused and change nothing.
Through letta-client 1.x and 0.1.x, on SQLite and PostgreSQL."""

import io
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.server.helpers import script, unique
from tests.support.servers import ServerProcess
from troupe.store import Database
from troupe.store.variable_tables import AgentVariableRow

READER = '''
import os

def read_env_{suffix}() -> str:
    """Report what this tool finds in its environment."""
    names = ("WEATHER_KEY", "UNIT", "TROUPE_URL", "HOME")
    return "|".join(f"{{n}}={{os.environ.get(n)}}" for n in names)
'''


def reader_tool(client: Any) -> Any:
    return client.tools.upsert(source_code=READER.format(suffix=unique("e").replace("-", "_")))


def seen(found: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in found.split("|"))


def in_a_turn(client: Any, agent_id: str, tool: str) -> dict[str, str]:
    """What the tool finds when the agent's model calls it in a turn."""
    steps = [{"tool": tool, "args": {}}, {"text": "done"}]
    reply = client.agents.messages.create(
        agent_id, messages=[{"role": "user", "content": script(*steps)}]
    )
    [found] = [m for m in reply.messages if m.message_type == "tool_return_message"]
    assert found.status == "success", found.tool_return
    return seen(found.tool_return)


def shown(variables: Any) -> dict[str, str]:
    return {v.key: v.value for v in variables or []}


def test_an_agents_tool_finds_its_variables_and_another_agents_does_not(
    client: Any, server: ServerProcess
) -> None:
    tool = reader_tool(client)
    secrets = {"WEATHER_KEY": "sk-weather", "UNIT": "", "TROUPE_URL": "http://evil", "HOME": "/"}
    agent = client.agents.create(
        name=unique("weather"), model="test/scripted", tool_ids=[tool.id], secrets=secrets
    )
    other = client.agents.create(name=unique("plain"), model="test/scripted", tool_ids=[tool.id])
    assert shown(agent.secrets) == secrets
    assert shown(agent.tool_exec_environment_variables) == secrets
    [variable] = [v for v in agent.secrets if v.key == "WEATHER_KEY"]
    assert variable.agent_id == agent.id
    assert variable.id
    assert variable.id.startswith("agent-env-")
    assert variable.created_at is not None

    found = in_a_turn(client, agent.id, tool.name)
    assert (found["WEATHER_KEY"], found["UNIT"]) == ("sk-weather", "")
    # troupe's own variables and the sandbox's win over the agent's of the same name.
    assert found["TROUPE_URL"] == server.url
    assert found["HOME"] not in ("/", "None")
    assert in_a_turn(client, other.id, tool.name)["WEATHER_KEY"] == "None"
    # A direct run of the tool (1.x agents.tools.run) runs it as the agent too.
    direct = client.agents.tools.run(tool.name, agent_id=agent.id, args={})
    assert seen(direct.func_return)["WEATHER_KEY"] == "sk-weather"
    assert shown(client.agents.retrieve(agent.id).secrets) == secrets


def test_run_code_finds_the_agents_variables(client: Any) -> None:
    agent = client.agents.create(
        name=unique("coder"), model="test/scripted", tools=["run_code"], secrets={"UNIT": "C"}
    )
    code = "import os; os.environ.get('UNIT')"
    result = client.agents.tools.run(
        "run_code", agent_id=agent.id, args={"code": code, "language": "python"}
    )
    assert json.loads(result.func_return)["results"] == ["'C'"]


def test_update_replaces_the_whole_set_and_leaves_it_alone_when_absent(client: Any) -> None:
    tool = reader_tool(client)
    agent = client.agents.create(
        name=unique("updated"),
        model="test/scripted",
        tool_ids=[tool.id],
        secrets={"WEATHER_KEY": "one", "UNIT": "F"},
    )
    kept_id = next(v.id for v in agent.secrets if v.key == "UNIT")
    changed = client.agents.update(agent.id, secrets={"UNIT": "C", "EXTRA": "x"})
    assert shown(changed.secrets) == {"UNIT": "C", "EXTRA": "x"}
    assert next(v.id for v in changed.secrets if v.key == "UNIT") == kept_id
    found = in_a_turn(client, agent.id, tool.name)
    assert (found["WEATHER_KEY"], found["UNIT"]) == ("None", "C")

    described = client.agents.update(agent.id, description="no variables in this request")
    assert shown(described.secrets) == {"UNIT": "C", "EXTRA": "x"}
    # The deprecated name works the same; `secrets` wins when both are sent, as in Letta.
    both = client.agents.update(
        agent.id, secrets={"WEATHER_KEY": "new"}, tool_exec_environment_variables={"OLD": "1"}
    )
    assert shown(both.secrets) == {"WEATHER_KEY": "new"}
    emptied = client.agents.update(agent.id, tool_exec_environment_variables={})
    assert emptied.secrets == []
    assert emptied.tool_exec_environment_variables == []
    assert in_a_turn(client, agent.id, tool.name)["WEATHER_KEY"] == "None"


@pytest.mark.parametrize("name", ["1ST", "A-B", "WITH SPACE", "X=Y", "", "É"])
def test_a_bad_name_is_a_422_that_changes_nothing(http: httpx.Client, name: str) -> None:
    agent_name = unique("refused")
    body = {"name": agent_name, "model": "test/scripted", "secrets": {"GOOD": "1", name: "x"}}
    refused = http.post("/v1/agents", json=body)
    assert refused.status_code == 422, refused.text
    assert "environment variable names" in refused.text
    assert http.get("/v1/agents", params={"name": agent_name}).json() == []

    made = http.post(
        "/v1/agents", json={"name": agent_name, "model": "test/scripted", "secrets": {"KEEP": "1"}}
    ).json()
    patch = {"description": "changed", "tool_exec_environment_variables": {name: "x"}}
    refused = http.patch(f"/v1/agents/{made['id']}", json=patch)
    assert refused.status_code == 422, refused.text
    after = http.get(f"/v1/agents/{made['id']}").json()
    assert [(v["key"], v["value"]) for v in after["secrets"]] == [("KEEP", "1")]
    assert after["description"] is None


def test_values_are_text(http: httpx.Client) -> None:
    body = {"name": unique("typed"), "model": "test/scripted", "secrets": {"PORT": 8080}}
    assert http.post("/v1/agents", json=body).status_code == 422


def test_the_legacy_sdk_sets_replaces_and_reads_them(client: Any, legacy_client: Any) -> None:
    tool = reader_tool(client)
    agent = legacy_client.agents.create(
        name=unique("legacy"),
        model="test/scripted",
        tool_ids=[tool.id],
        tool_exec_environment_variables={"WEATHER_KEY": "legacy", "UNIT": "K"},
    )
    assert shown(agent.tool_exec_environment_variables) == {"WEATHER_KEY": "legacy", "UNIT": "K"}
    assert agent.tool_exec_environment_variables[0].agent_id == agent.id
    assert in_a_turn(client, agent.id, tool.name)["WEATHER_KEY"] == "legacy"
    modified = legacy_client.agents.modify(
        agent_id=agent.id, tool_exec_environment_variables={"UNIT": "C"}
    )
    assert shown(modified.tool_exec_environment_variables) == {"UNIT": "C"}
    again = legacy_client.agents.retrieve(agent_id=agent.id)
    assert shown(again.tool_exec_environment_variables) == {"UNIT": "C"}
    listed = legacy_client.agents.list(name=agent.name)
    assert shown(listed[0].tool_exec_environment_variables) == {"UNIT": "C"}
    narrowed = legacy_client.agents.list(name=agent.name, include_relationships=["tools"])
    assert narrowed[0].tool_exec_environment_variables == []
    asked = legacy_client.agents.list(
        name=agent.name, include_relationships=["tool_exec_environment_variables"]
    )
    assert shown(asked[0].tool_exec_environment_variables) == {"UNIT": "C"}


def test_lists_carry_them_by_default_or_when_included(client: Any) -> None:
    name = unique("listed")
    client.agents.create(name=name, model="test/scripted", secrets={"UNIT": "C"})
    [everything] = client.agents.list(name=name)
    assert shown(everything.secrets) == {"UNIT": "C"}
    [narrowed] = client.agents.list(name=name, include=["agent.tools"])
    assert narrowed.secrets == []
    assert narrowed.tool_exec_environment_variables == []
    [asked] = client.agents.list(name=name, include=["agent.secrets"])
    assert shown(asked.secrets) == shown(asked.tool_exec_environment_variables) == {"UNIT": "C"}


async def test_deleting_the_agent_deletes_its_variables(client: Any, server: ServerProcess) -> None:
    agent = client.agents.create(
        name=unique("gone"), model="test/scripted", secrets={"A": "1", "B": "2"}
    )
    db = Database(server.database_url)
    try:
        count = select(func.count()).where(AgentVariableRow.agent_id == agent.id)
        async with db.read() as session:
            assert await session.scalar(count) == 2
        client.agents.delete(agent.id)
        async with db.read() as session:
            assert await session.scalar(count) == 0
    finally:
        await db.dispose()


def test_export_writes_the_names_and_import_gives_values_to_every_agent(
    client: Any, legacy_client: Any, http: httpx.Client
) -> None:
    tool = reader_tool(client)
    agent = client.agents.create(
        name=unique("exported"),
        model="test/scripted",
        tool_ids=[tool.id],
        secrets={"WEATHER_KEY": "never-in-a-file", "UNIT": "C"},
    )
    text = client.agents.export_file(agent.id)
    assert "never-in-a-file" not in text
    [exported] = json.loads(text)["agents"]
    assert exported["tool_exec_environment_variables"] == {"UNIT": "", "WEATHER_KEY": ""}

    imported = client.agents.import_file(
        file=("a.af", io.BytesIO(text.encode()), "application/json"),
        secrets=json.dumps({"WEATHER_KEY": "sk-new", "REGION": "eu"}),
    )
    [copy_id] = imported.agent_ids
    copy = client.agents.retrieve(copy_id)
    assert shown(copy.secrets) == {"WEATHER_KEY": "sk-new", "UNIT": "", "REGION": "eu"}
    found = in_a_turn(client, copy_id, tool.name)
    assert (found["WEATHER_KEY"], found["UNIT"]) == ("sk-new", "")
    assert shown(client.agents.retrieve(agent.id).secrets)["WEATHER_KEY"] == "never-in-a-file"

    # The older form field, and the file's names alone when the request gives none.
    older = client.agents.import_file(
        file=("a.af", io.BytesIO(text.encode()), "application/json"),
        env_vars_json=json.dumps({"UNIT": "F"}),
    )
    assert shown(client.agents.retrieve(older.agent_ids[0]).secrets) == {
        "WEATHER_KEY": "",
        "UNIT": "F",
    }
    plain = legacy_client.agents.import_agent_serialized(
        file=("a.af", io.BytesIO(text.encode()), "application/json")
    )
    assert shown(plain.tool_exec_environment_variables) == {"WEATHER_KEY": "", "UNIT": ""}


@pytest.mark.parametrize(
    ("field", "value"),
    [("secrets", "not json"), ("secrets", '["A"]'), ("env_vars_json", '{"A": 1}'),
     ("secrets", '{"BAD-NAME": "x"}')],
)  # fmt: skip
def test_an_import_with_bad_variables_is_a_422_that_imports_nothing(
    client: Any, http: httpx.Client, field: str, value: str
) -> None:
    name = unique("unimported")
    agent = client.agents.create(name=name, model="test/scripted", secrets={"A": "1"})
    text = client.agents.export_file(agent.id)
    before = len(http.get("/v1/agents", params={"name": name}).json())
    refused = http.post(
        "/v1/agents/import",
        files={"file": ("a.af", text.encode(), "application/json")},
        data={field: value},
    )
    assert refused.status_code == 422, refused.text
    assert field in refused.text or "BAD-NAME" in refused.text
    assert len(http.get("/v1/agents", params={"name": name}).json()) == before


def test_the_sleeptime_agent_keeps_its_own_variables_as_in_letta(
    client: Any, legacy_client: Any
) -> None:
    """Letta's `create_sleeptime_agent_async` makes the sleep-time agent from the primary's
    name, blocks, model and embedding only: the primary's `secrets` are not copied, and a
    later update of them does not reach it. Its own are set like any agent's."""
    primary = client.agents.create(
        name=unique("primary"),
        model="test/scripted",
        secrets={"WEATHER_KEY": "sk-primary"},
        enable_sleeptime=True,
    )
    (sleeper_id,) = primary.multi_agent_group.agent_ids
    assert shown(client.agents.retrieve(sleeper_id).secrets) == {}
    client.agents.update(primary.id, secrets={"WEATHER_KEY": "sk-new"})
    assert shown(client.agents.retrieve(sleeper_id).secrets) == {}
    client.agents.update(sleeper_id, secrets={"UNIT": "C"})
    assert shown(client.agents.retrieve(sleeper_id).secrets) == {"UNIT": "C"}
    assert shown(client.agents.retrieve(primary.id).secrets) == {"WEATHER_KEY": "sk-new"}
    legacy = legacy_client.agents.create(
        name=unique("legacy-primary"),
        model="test/scripted",
        tool_exec_environment_variables={"WEATHER_KEY": "sk-old"},
        request_options={"additional_body_parameters": {"enable_sleeptime": True}},
    )
    (legacy_sleeper,) = legacy.multi_agent_group.agent_ids
    sleeper = legacy_client.agents.retrieve(agent_id=legacy_sleeper)
    assert shown(sleeper.tool_exec_environment_variables) == {}
