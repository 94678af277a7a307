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
from tests.support.mcp_test_servers import McpHttpServer, running_http_mcp
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess
from troupe.llm.fake_server import FakeLLMServer

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "agent_files"
WORKFLOW = EXAMPLES / "outreach_workflow_agent.af"  # saved as a JSON string, as Letta's repo has it
MEMGPT = EXAMPLES / "memgpt_agent_with_convo.af"


def example(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    return json.loads(document) if isinstance(document, str) else document


def history(client: Any, agent_id: str) -> list[Any]:
    """The agent's messages after the head (the system message troupe shows first, as Letta
    does, rendered from the agent's prompt and blocks rather than stored)."""
    listed = list(client.agents.messages.list(agent_id, order="asc", limit=100))
    head = listed[:1] if listed and listed[0].message_type == "system_message" else []
    return listed[len(head) :]


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


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeLLMServer, FakeLLMServer]]:
    """This server's OpenAI-compatible provider, and a host a file names as its endpoint."""
    with FakeLLMServer() as ours, FakeLLMServer() as theirs:
        yield ours, theirs


@pytest.fixture(scope="module")
def empty_server(
    server: ServerProcess,
    fakes: tuple[FakeLLMServer, FakeLLMServer],
    database_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A second server, empty, on the session server's backend, with OpenAI configured (to
    the first fake)."""
    backend = "sqlite" if server.database_url.startswith("sqlite") else "postgres"
    env = {"OPENAI_BASE_URL": fakes[0].openai_base_url, "OPENAI_API_KEY": "sk-ours"}
    proc = ServerProcess(database_factory(backend), tmp_path_factory.mktemp("empty"), env=env)
    proc.start()
    try:
        yield proc.url
    finally:
        proc.stop()


FOLDER_NOTES = "# Notes\n\nThe launch code is PELICAN-42.\n"
FOLDER_PLAN = "We ship the release on fridays, after the review.\n"


@pytest.fixture(scope="module")
def http_mcp() -> Iterator[McpHttpServer]:
    with running_http_mcp() as mcp:
        yield mcp


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


def test_a_team_travels_to_an_empty_server(
    request: pytest.FixtureRequest,
    client: Any,
    legacy_client: Any,
    empty_server: str,
    http_mcp: McpHttpServer,
) -> None:
    from letta_client import Letta

    first, second = _team(client)
    mcp = client.mcp_servers.create(
        server_name=unique("calc"),
        config={"mcp_server_type": "streamable_http", "server_url": http_mcp.url},
    )
    # Its tools (`add`, ...) leave the shared server with it: other tests name tools so.
    request.addfinalizer(lambda: client.mcp_servers.delete(mcp.id))
    add = next(t for t in client.mcp_servers.tools.list(mcp.id) if t.name.endswith("add"))
    client.agents.tools.attach(add.id, agent_id=first.id)
    solo = client.agents.create(name=unique("solo"), model="test/echo", tags=["team"])
    group = legacy_client.groups.create_group(
        agent_ids=[solo.id, first.id],
        description="pair",
        manager_config={"manager_type": "round_robin", "max_turns": 2},
    )
    folder = client.folders.create(name=unique("docs"), instructions="cite the file")
    for name, body in (("notes.md", FOLDER_NOTES), ("plan.txt", FOLDER_PLAN)):
        client.folders.files.upload(folder.id, file=(name, io.BytesIO(body.encode())))
    client.agents.folders.attach(folder.id, agent_id=first.id)
    plan = next(f for f in client.agents.files.list(first.id) if f.file_name.endswith("plan.txt"))
    client.agents.files.close(plan.file_id, agent_id=first.id)
    text = client.agents.export_file(first.id)
    exported = json.loads(text)
    [source] = exported["sources"]
    assert (source["name"], source["instructions"]) == (folder.name, "cite the file")
    assert sorted(f["file_name"] for f in exported["files"]) == ["notes.md", "plan.txt"]
    assert exported["agents"][0]["source_ids"] == [source["id"]]
    views = {v["file_name"]: v["is_open"] for v in exported["agents"][0]["files_agents"]}
    assert views == {f"{folder.name}/notes.md": True, f"{folder.name}/plan.txt": False}
    [server] = exported["mcp_servers"]
    assert (server["server_name"], server["server_url"]) == (mcp.server_name, http_mcp.url)
    [file_add] = [t for t in exported["tools"] if t["name"] == add.name]
    assert file_add["metadata_"]["mcp"]["server_id"] == server["id"]
    team = (first, second, solo)  # the shared block brings second, the group solo
    assert [a["name"] for a in exported["agents"]] == [a.name for a in team]
    assert len(exported["blocks"]) == 3  # two personas and the one shared block
    [file_group] = exported["groups"]
    assert file_group["agent_ids"] == ["agent-2", "agent-0"]
    assert file_group["manager_config"] == {"manager_type": "round_robin", "max_turns": 2}

    other = Letta(base_url=empty_server)
    imported = other.agents.import_file(
        file=("team.af", io.BytesIO(text.encode()), "application/json")
    )
    assert len(imported.agent_ids) == 3
    for original, copy in zip(team, imported.agent_ids, strict=True):
        assert _portrait(other, copy) == _portrait(client, original.id)
    shared = [
        {b.id for b in other.agents.retrieve(a).memory.blocks if b.label == "team"}
        for a in imported.agent_ids[:2]
    ]
    assert shared[0] == shared[1]
    [copied] = legacy_sdk().Letta(base_url=empty_server).groups.list_groups()
    assert copied.id != group.id
    assert (copied.agent_ids, copied.manager_type, copied.max_turns) == (
        [imported.agent_ids[2], imported.agent_ids[0]],
        "round_robin",
        2,
    )
    # The imported lead goes on answering.
    reply = other.agents.messages.create(
        imported.agent_ids[0], messages=[{"role": "user", "content": "again"}]
    )
    assert any(m.message_type == "assistant_message" for m in reply.messages)
    _check_imported_folder(other, imported.agent_ids[0], folder.name, empty_server)
    [copied_mcp] = list(other.mcp_servers.list())
    assert (copied_mcp.server_name, copied_mcp.server_url) == (mcp.server_name, http_mcp.url)
    steps = [{"tool": add.name, "args": {"a": 2, "b": 40}}]
    reply = other.agents.messages.create(
        imported.agent_ids[0], messages=[{"role": "user", "content": script(*steps)}]
    )
    [added] = [m for m in reply.messages if m.message_type == "tool_return_message"]
    assert (added.status, added.tool_return) == ("success", "42")


def _check_imported_folder(other: Any, agent_id: str, name: str, url: str) -> None:
    """The lead's folder came with it: its two files stored, embedded here, attached, open
    as they were; and its file tools read them."""
    [copied] = list(other.folders.list())
    assert copied.name == name
    files = {f.file_name: f for f in other.folders.files.list(copied.id)}
    assert sorted(files) == ["notes.md", "plan.txt"]
    for file in files.values():  # re-chunked and embedded here
        assert (file.processing_status, file.chunks_embedded) == ("completed", file.total_chunks)
        assert file.total_chunks
    seen = {f.file_name: f.is_open for f in other.agents.files.list(agent_id)}
    assert seen == {f"{name}/notes.md": True, f"{name}/plan.txt": False}
    [source] = legacy_sdk().Letta(base_url=url).agents.sources.list(agent_id=agent_id)
    assert source.id == copied.id  # the 0.1.x line sees it as the agent's source
    steps = [
        {"tool": "grep_files", "args": {"pattern": "pelican"}},
        {"tool": "semantic_search_files", "args": {"query": "when do we ship"}},
    ]
    reply = other.agents.messages.create(
        agent_id, messages=[{"role": "user", "content": script(*steps)}]
    )
    grep, semantic = (
        m.tool_return for m in reply.messages if m.message_type == "tool_return_message"
    )
    assert "The launch code is PELICAN-42." in grep
    assert f"{name}/plan.txt" in semantic


def test_the_files_endpoint_is_never_called_with_this_servers_key(
    empty_server: str, fakes: tuple[FakeLLMServer, FakeLLMServer]
) -> None:
    """On a server with OpenAI configured, a file's OpenAI handle is kept, but its model
    endpoint is never called: this server's provider is, with this server's key."""
    ours, theirs = fakes
    ours.keys.clear()
    document = example(MEMGPT)
    document["agents"][0]["llm_config"]["model_endpoint"] = theirs.openai_base_url
    with httpx.Client(base_url=empty_server, timeout=60) as http:
        done = http.post("/v1/agents/import", files={"file": ("a.af", json.dumps(document))})
        assert done.status_code == 200, done.text
        [agent_id] = done.json()["agent_ids"]
        agent = http.get(f"/v1/agents/{agent_id}").json()
        assert agent["model"] == "openai/gpt-4o-mini"  # openai/ is configured here: kept
        assert agent["llm_config"]["context_window"] == 32000
        assert agent["llm_config"]["model_endpoint"] != theirs.openai_base_url
        ours.push({"text": "hello from this server's provider"})
        reply = http.post(
            f"/v1/agents/{agent_id}/messages",
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
    assert reply.status_code == 200, reply.text
    said = [
        m["content"] for m in reply.json()["messages"] if m["message_type"] == "assistant_message"
    ]
    assert said == ["hello from this server's provider"]
    assert ours.keys == ["sk-ours"]
    assert theirs.requests == []


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
    said = [m.content for m in history(client, state.id) if m.message_type == "user_message"]
    assert said == ["remember"]
    bare = client.agents.import_file(
        file=("a.af", io.BytesIO(text.encode()), "application/json"),
        strip_messages=True,
        embedding="local/all-MiniLM-L6-v2",
    )
    assert history(client, bare.agent_ids[0]) == []
    embedding = client.agents.retrieve(bare.agent_ids[0]).embedding_config
    assert embedding.handle == "local/all-MiniLM-L6-v2"

    # A conversation of the agent, exported as its history (1.x's conversation_id).
    chat = client.conversations.create(agent_id=agent.id)
    list(
        client.conversations.messages.create(
            chat.id, messages=[{"role": "user", "content": "aside"}]
        )
    )
    file = json.loads(client.agents.export_file(agent.id, conversation_id=chat.id))
    said = [m["content"][0]["text"] for m in file["agents"][0]["messages"] if m["role"] == "user"]
    assert said == ["aside"]
    from letta_client import NotFoundError

    with pytest.raises(NotFoundError):
        client.agents.export_file(state.id, conversation_id=chat.id)


def test_rules_naming_tools_the_file_lacks_are_kept_inert_as_agent_create_keeps_them(
    client: Any,
) -> None:
    document = example(WORKFLOW)
    absent = {"type": "exit_loop", "tool_name": "not_in_the_file"}
    document["agents"][0]["tool_rules"].append(absent)
    data = json.dumps(document).encode()
    imported = client.agents.import_file(
        file=("x.af", io.BytesIO(data), "application/json"), name=unique("rules")
    )
    [agent_id] = imported.agent_ids
    rules = [r.model_dump(exclude_none=True) for r in client.agents.retrieve(agent_id).tool_rules]
    assert {"type": "exit_loop", "tool_name": "not_in_the_file"} in [
        {k: r[k] for k in ("type", "tool_name")} for r in rules
    ]
    assert len(rules) == len(document["agents"][0]["tool_rules"])
    assert "not_in_the_file" not in {t.name for t in client.agents.retrieve(agent_id).tools}


def _import(http: httpx.Client, document: Any, **form: str) -> httpx.Response:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return http.post("/v1/agents/import", files={"file": ("x.af", data)}, data=form)


def test_bad_files_get_a_clear_4xx_and_import_nothing(http: httpx.Client) -> None:
    base = example(WORKFLOW)
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
        "a group of strangers": variant(
            lambda d: d["groups"].append({"id": "g", "agent_ids": ["agent-9"], "description": ""})
        ),
        "a manager troupe lacks": variant(
            lambda d: d["groups"].append(
                {"id": "g", "agent_ids": ["agent-0"], "manager_config": {"manager_type": "x"}}
            )
        ),
        "bad compaction settings": variant(
            lambda d: d["agents"][0].update(compaction_settings={"clip_chars": -1})
        ),
        "a block over its limit": variant(
            lambda d: d["blocks"].append({"id": "b", "label": "x", "value": "abc", "limit": 2})
        ),
        "an unknown source": variant(lambda d: d["agents"][0]["source_ids"].append("source-9")),
        "a file of no source": variant(
            lambda d: d["files"].append({"id": "file-0", "source_id": "source-9"})
        ),
        "a tool variable with a bad name": variant(
            lambda d: d["agents"][0].update(tool_exec_environment_variables={"1X": ""})
        ),
        "an unknown tool rule type": variant(
            lambda d: d["agents"][0]["tool_rules"].append(
                {"type": "no_such_rule", "tool_name": "not_in_the_file"}
            )
        ),
    }
    for case, document in cases.items():
        response = _import(http, document)
        assert response.status_code == 422, (case, response.text)
        assert "detail" in response.json(), case
    assert _import(http, base, secrets='{"BAD NAME": "v"}').status_code == 422
    too_big = b" " * (8 * 1024 * 1024 + 1)
    assert _import(http, too_big).status_code == 413
    assert http.get("/v1/agents", params={"name": name}).json() == []
    fresh = f"fresh_{name.replace('-', '_')}"
    assert http.get("/v1/tools", params={"name": fresh}).json() == []


def test_legacy_sdk_imports_letta_memgpt_example_which_then_edits_memory_and_answers(
    legacy_client: Any, client: Any
) -> None:
    with MEMGPT.open("rb") as handle:
        state = legacy_client.agents.import_agent_serialized(file=handle)
    assert state.name == "memgpt_agent"
    assert state.model == "local/smollm2-135m"  # openai/ is not configured on the test server
    assert {t.name for t in state.tools} == {
        "conversation_search",
        "memory_insert",
        "memory_replace",
    }
    blocks = {b.label: b.value for b in state.memory.blocks}
    assert "First name: Chad" in blocks["human"]
    assert "I am Sam." in blocks["persona"]
    assert state.system.startswith("<base_instructions>")
    assert history(client, state.id) == []  # Letta's compiled prompt stays behind
    [head] = client.agents.messages.list(state.id)
    assert head.content.startswith("<base_instructions>")  # troupe's own, from the prompt

    client.agents.update(state.id, model="test/scripted")
    edit = {"label": "human", "old_str": "First name: Chad", "new_str": "First name: Ada"}
    steps = [{"tool": "memory_replace", "args": edit}, {"text": "Noted, Ada."}]
    reply = legacy_client.agents.messages.create(
        agent_id=state.id, messages=[{"role": "user", "content": script(*steps)}]
    )
    assert reply.messages[-1].content == "Noted, Ada."
    human = client.agents.blocks.retrieve("human", agent_id=state.id)
    assert "First name: Ada" in human.value


V1_TOOL = 'def add(a: int, b: int) -> int:\n    """Add.\n\n    Args:\n        a: one\n        b: two\n    """\n    return a + b\n'


def test_legacy_v1_files_import_too(legacy_client: Any, client: Any) -> None:
    """Letta's first format (one agent inline), as 0.1.x scripts saved it."""
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "send_message", "arguments": '{"message": "hi there"}'},
    }
    v1 = {
        "agent_type": "memgpt_agent",
        "name": unique("v1"),
        "system": "You are v1.",
        "description": None,
        "llm_config": {"model": "gpt-4", "model_endpoint_type": "openai", "context_window": 8192},
        "embedding_config": {"embedding_endpoint_type": "openai", "embedding_model": "x", "embedding_dim": 8},
        "core_memory": [{"label": "human", "value": "Name: Ada", "limit": 5000, "is_template": False}],
        "tags": [{"tag": "v1"}],
        "tools": [{"name": "add", "source_code": V1_TOOL, "source_type": "python", "tool_type": "custom", "tags": []}],
        "tool_rules": [{"tool_name": "add", "type": "continue_loop"}],
        "messages": [
            {"role": "system", "text": "compiled prompt"},
            {"role": "user", "text": "hello v1"},
            {"role": "assistant", "content": [{"type": "text", "text": "greet"}], "tool_calls": [call]},
            {"role": "tool", "content": [{"type": "text", "text": "None"}], "tool_call_id": "c1"},
        ],
        "version": "0.6.0",
    }  # fmt: skip
    state = legacy_client.agents.import_agent_serialized(
        file=("v1.af", io.BytesIO(json.dumps(v1).encode()), "application/json")
    )
    assert (state.name, state.tags, state.system) == (v1["name"], ["v1"], "You are v1.")
    assert [(b.label, b.value) for b in state.memory.blocks] == [("human", "Name: Ada")]
    assert [t.name for t in state.tools] == ["add"]
    assert [r.tool_name for r in state.tool_rules] == ["add"]
    kept = [
        (m.message_type, getattr(m, "content", None) or getattr(m, "reasoning", None))
        for m in history(client, state.id)
    ]
    assert kept == [
        ("user_message", "hello v1"),
        ("reasoning_message", "greet"),
        ("assistant_message", "hi there"),
    ]


def test_a_file_never_makes_this_server_run_a_command(http: httpx.Client, tmp_path: Path) -> None:
    """A stdio MCP server in a file is not created (its command would run here), and its
    tools are left out; the rest of the file imports. Only an explicit opt-in creates it."""
    marker = tmp_path / "ran"
    document = example(WORKFLOW)
    name, server = unique("hostile"), unique("stdio")
    document["agents"][0]["name"] = name
    document["mcp_servers"] = [
        {
            "id": "mcp_server-0",
            "server_type": "stdio",
            "server_name": server,
            "stdio_config": {"command": "touch", "args": [str(marker)]},
        }
    ]
    document["tools"].append(
        {
            "id": "tool-99",
            "tool_type": "external_mcp",
            "name": "pwn",
            "json_schema": {"name": "pwn", "parameters": {"type": "object", "properties": {}}},
            "metadata_": {"mcp": {"server_name": server, "server_id": "mcp_server-0"}},
        }
    )
    document["agents"][0]["tool_ids"].append("tool-99")
    done = _import(http, document)
    assert done.status_code == 200, done.text
    [agent_id] = done.json()["agent_ids"]
    tools = {t["name"] for t in http.get(f"/v1/agents/{agent_id}").json()["tools"]}
    assert "pwn" not in tools
    assert "evaluate_candidate" in tools
    assert server not in {s["server_name"] for s in http.get("/v1/mcp-servers").json()}

    # Asked for explicitly, the server is created (with no env; nothing runs at import).
    document["mcp_servers"][0]["stdio_config"]["env"] = {"TOKEN": "from-the-file"}
    done = _import(http, document, allow_stdio_mcp_servers="true")
    assert done.status_code == 200, done.text
    [agent_id] = done.json()["agent_ids"]
    tools = {t["name"] for t in http.get(f"/v1/agents/{agent_id}").json()["tools"]}
    assert "pwn" in tools
    [created] = [s for s in http.get("/v1/mcp-servers").json() if s["server_name"] == server]
    assert (created["command"], created["args"]) == ("touch", [str(marker)])
    assert not created.get("env")
    assert http.delete(f"/v1/mcp-servers/{created['id']}").status_code in (200, 204)
    assert not marker.exists()
