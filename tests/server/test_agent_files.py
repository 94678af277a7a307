"""Folders attached to agents, through both SDKs on a real server: the agent gets Letta's
file tools and sees its open files in its context; a deterministic model calls the tools;
detaching the last folder takes the tools and files away."""

import io
from typing import Any

import httpx

from tests.server.helpers import of_type, script, send, unique
from tests.server.test_folders import NOTES, make_folder, upload

READER = "test/function:tests.support.file_models:read_files"
FILE_TOOLS = {"open_files", "grep_files", "semantic_search_files"}
CSV = b"city,population\nLyon,522250\nNantes,320732\n"


def tool_names(agent: Any) -> set[str]:
    return {t.name for t in agent.tools}


def test_attaching_a_folder_shows_its_files_and_gives_the_file_tools(client: Any) -> None:
    folder = client.folders.create(name=unique("docs"))
    notes = client.folders.files.upload(folder.id, file=("notes.md", io.BytesIO(NOTES.encode())))
    agent = client.agents.create(name=unique("reader"), model=READER)
    assert not FILE_TOOLS & tool_names(agent)

    attached = client.agents.folders.attach(folder.id, agent_id=agent.id)
    assert tool_names(attached) >= FILE_TOOLS
    assert [f.id for f in client.agents.folders.list(agent.id)] == [folder.id]
    assert client.folders.agents.list(folder.id) == [agent.id]
    [seen] = list(client.agents.files.list(agent.id))
    assert (seen.file_id, seen.file_name, seen.is_open) == (
        notes.id,
        f"{folder.name}/notes.md",
        True,
    )
    assert "PELICAN-42" in (seen.visible_content or "")

    # A file uploaded to an attached folder reaches the agent at once.
    data = client.folders.files.upload(folder.id, file=("data.csv", io.BytesIO(CSV)))
    names = {f.file_name: f for f in client.agents.files.list(agent.id)}
    assert names[f"{folder.name}/data.csv"].is_open

    closed = client.agents.files.close_all(agent.id)
    assert sorted(closed) == sorted(names)
    assert not any(f.is_open for f in client.agents.files.list(agent.id))
    assert client.agents.files.open(data.id, agent_id=agent.id) == []
    assert [f.file_id for f in client.agents.files.list(agent.id, is_open=True)] == [data.id]
    client.agents.files.close(data.id, agent_id=agent.id)
    assert list(client.agents.files.list(agent.id, is_open=True)) == []

    detached = client.agents.folders.detach(folder.id, agent_id=agent.id)
    assert not FILE_TOOLS & tool_names(detached)
    assert list(client.agents.files.list(agent.id)) == []
    assert list(client.agents.folders.list(agent.id)) == []
    assert client.folders.agents.list(folder.id) == []


def test_sources_attach_to_agents_through_the_legacy_sdk(legacy_client: Any) -> None:
    source = legacy_client.sources.create(name=unique("source"))
    agent = legacy_client.agents.create(name=unique("reader"), model=READER)
    state = legacy_client.agents.sources.attach(agent_id=agent.id, source_id=source.id)
    assert {t.name for t in state.tools} >= FILE_TOOLS
    assert [s.id for s in legacy_client.agents.sources.list(agent_id=agent.id)] == [source.id]
    state = legacy_client.agents.sources.detach(agent_id=agent.id, source_id=source.id)
    assert not FILE_TOOLS & {t.name for t in state.tools}
    assert legacy_client.agents.sources.list(agent_id=agent.id) == []


def _returns(response: dict[str, Any]) -> list[dict[str, Any]]:
    return of_type(response, "tool_return_message")


def test_an_agent_reads_its_files_with_the_file_tools(http: httpx.Client) -> None:
    folder = make_folder(http, description="launch docs", instructions="cite the file")
    upload(http, folder["id"], "notes.md", NOTES.encode())
    upload(http, folder["id"], "data.csv", CSV)
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    attached = http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    assert attached.status_code == 200
    notes, data = f"{folder['name']}/notes.md", f"{folder['name']}/data.csv"

    response = send(
        http,
        agent["id"],
        script(
            {"tool": "grep_files", "args": {"pattern": "pelican"}},
            {"tool": "grep_files", "args": {"pattern": "nantes", "include": "*.md"}},
            {"tool": "semantic_search_files", "args": {"query": "what is the launch code"}},
            {
                "tool": "open_files",
                "args": {
                    "file_requests": [{"file_name": notes, "offset": 3, "length": 1}],
                    "close_all_others": True,
                },
                "heartbeat": True,  # then the model quotes what it sees of the files
            },
        ),
    )
    grep, grep_md, semantic, opened = (r["tool_return"] for r in _returns(response))
    assert grep.startswith("Found 1 matches in 1 files for pattern: 'pelican'")
    assert f"=== {notes}:3 ===" in grep
    assert "> 3: The launch code is PELICAN-42." in grep
    assert grep_md == "No matches found for pattern: 'nantes' in files matching '*.md'"
    assert semantic.startswith("Found ")
    assert f"=== {notes} (passage #1) ===" in semantic
    assert "PELICAN-42" in semantic
    assert opened == (
        f"Successfully opened file {notes}, lines 3 to 3 are now visible in memory block "
        f"<{notes}>\nNote: Closed 1 file(s) due to close_all_others=True: {data}"
    )
    [seen] = of_type(response, "assistant_message")
    context = seen["content"]
    assert context.startswith("<directories>\n<file_limits>\n- current_files_open=1\n")
    assert f'<directory name="{folder["name"]}">' in context
    assert "<description>launch docs</description>" in context
    assert "<instructions>cite the file</instructions>" in context
    assert f'<file status="open" name="{notes}">' in context
    assert "[Viewing lines 3 to 3 (out of 5 lines)]\n3: The launch code is PELICAN-42." in context
    assert "Bring snacks" not in context
    assert f'<file status="closed" name="{data}">' in context
    assert "Nantes" not in context

    files = {f["file_name"]: f for f in http.get(f"/v1/agents/{agent['id']}/files").json()["files"]}
    assert (files[notes]["is_open"], files[notes]["start_line"], files[notes]["end_line"]) == (
        True,
        3,
        3,
    )
    assert not files[data]["is_open"]


def test_file_tool_mistakes_come_back_as_tool_errors(http: httpx.Client) -> None:
    folder = make_folder(http)
    upload(http, folder["id"], "notes.md", NOTES.encode())
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    notes = f"{folder['name']}/notes.md"
    response = send(
        http,
        agent["id"],
        script(
            {"tool": "open_files", "args": {"file_requests": [{"file_name": "nope.md"}]}},
            {"tool": "open_files", "args": {"file_requests": [{"file_name": notes, "offset": 99}]}},
            {"tool": "grep_files", "args": {"pattern": "("}},
            {"tool": "semantic_search_files", "args": {"query": "  "}},
        ),
    )
    returns = _returns(response)
    assert [r["status"] for r in returns] == ["error"] * 4
    assert "nope.md not attached" in returns[0]["tool_return"]
    assert notes in returns[0]["tool_return"]
    assert "offset 99 is past its end" in returns[1]["tool_return"]
    assert "Invalid regex pattern" in returns[2]["tool_return"]
    assert "Empty search query" in returns[3]["tool_return"]
    # The failed open changed nothing: the file is still open in full.
    [seen] = http.get(f"/v1/agents/{agent['id']}/files").json()["files"]
    assert seen["is_open"]
    assert seen["start_line"] is None


def test_opening_past_the_budget_closes_the_least_recently_used(http: httpx.Client) -> None:
    folder = make_folder(http)
    ids = [
        upload(http, folder["id"], f"f{i}.txt", f"file {i}".encode()).json()["id"] for i in range(4)
    ]
    agent = http.post(
        "/v1/agents",
        json={"name": unique("small"), "model": READER, "context_window_limit": 4000},
    ).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    open_ids = [
        f["file_id"]
        for f in http.get(f"/v1/agents/{agent['id']}/files", params={"is_open": True}).json()[
            "files"
        ]
    ]
    assert sorted(open_ids) == sorted(ids[1:])  # three open at most with a 4k window
    closed = http.patch(f"/v1/agents/{agent['id']}/files/{ids[0]}/open").json()
    assert closed == [f"{folder['name']}/f1.txt"]


def test_deleting_a_folder_takes_its_files_and_tools_from_agents(http: httpx.Client) -> None:
    folder = make_folder(http)
    upload(http, folder["id"], "notes.md", NOTES.encode())
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    assert http.delete(f"/v1/folders/{folder['id']}").status_code == 200
    state = http.get(f"/v1/agents/{agent['id']}").json()
    assert not FILE_TOOLS & {t["name"] for t in state["tools"]}
    assert http.get(f"/v1/agents/{agent['id']}/files").json()["files"] == []


def test_agent_file_routes_refuse_unknown_ids(http: httpx.Client) -> None:
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    folder = make_folder(http)
    base = f"/v1/agents/{agent['id']}"
    assert http.patch(f"{base}/folders/attach/source-nope").status_code == 404
    assert http.patch(f"/v1/agents/agent-nope/folders/attach/{folder['id']}").status_code == 404
    assert http.patch(f"{base}/files/file-nope/open").status_code == 404
    assert http.patch(f"{base}/files/file-nope/close").status_code == 404
    assert http.get("/v1/agents/agent-nope/files").status_code == 404
    assert http.get("/v1/folders/source-nope/agents").status_code == 404


def test_semantic_search_finds_a_paraphrase_that_shares_no_word(http: httpx.Client) -> None:
    """Real embeddings (the embedded MiniLM): the query and the passage it finds have no
    content word in common."""
    folder = make_folder(http, embedding_chunk_size=16)  # a passage per paragraph
    text = (
        "The cat dozed quietly on the warm windowsill.\n\n"
        "Quarterly revenue rose by twelve percent.\n\n"
        "Everest is the tallest mountain on Earth.\n"
    )
    file = upload(http, folder["id"], "mixed.txt", text.encode()).json()
    assert file["total_chunks"] == file["chunks_embedded"] == 3
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    response = send(
        http,
        agent["id"],
        script(
            {"tool": "semantic_search_files", "args": {"query": "a sleeping kitten", "limit": 1}},
            {"tool": "semantic_search_files", "args": {"query": "company earnings", "limit": 1}},
        ),
    )
    kitten, earnings = (r["tool_return"] for r in _returns(response))
    assert "windowsill" in kitten
    assert "revenue" not in kitten
    assert "revenue" in earnings
    assert "windowsill" not in earnings


def test_an_agent_created_with_folders_has_them_from_the_start(
    client: Any, legacy_client: Any
) -> None:
    folder = client.folders.create(name=unique("docs"))
    client.folders.files.upload(folder.id, file=("notes.md", io.BytesIO(NOTES.encode())))
    agent = client.agents.create(name=unique("a"), model=READER, folder_ids=[folder.id])
    assert [s.id for s in agent.sources] == [folder.id]
    assert tool_names(agent) >= FILE_TOOLS
    assert [f.is_open for f in client.agents.files.list(agent.id)] == [True]
    assert [s.name for s in client.agents.retrieve(agent.id).sources] == [folder.name]

    legacy = legacy_client.agents.create(name=unique("b"), model=READER, source_ids=[folder.id])
    assert [s.id for s in legacy.sources] == [folder.id]
    assert [s.id for s in legacy_client.agents.retrieve(agent_id=legacy.id).sources] == [folder.id]


def test_creating_an_agent_with_an_unknown_folder_creates_nothing(http: httpx.Client) -> None:
    name = unique("never")
    response = http.post(
        "/v1/agents", json={"name": name, "model": READER, "folder_ids": ["source-nope"]}
    )
    assert response.status_code == 404
    assert http.get("/v1/agents", params={"name": name}).json() == []


def test_a_keyword_only_folder_is_searched_by_its_words(http: httpx.Client) -> None:
    folder = make_folder(http, embedding="local/keyword", embedding_chunk_size=16)
    text = "The cat dozed on the windowsill.\n\nRevenue rose by twelve percent.\n"
    file = upload(http, folder["id"], "plain.txt", text.encode()).json()
    assert (file["total_chunks"], file["chunks_embedded"]) == (2, 0)
    agent = http.post("/v1/agents", json={"name": unique("reader"), "model": READER}).json()
    http.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    response = send(
        http,
        agent["id"],
        script(
            {"tool": "semantic_search_files", "args": {"query": "revenue figures"}},
            {"tool": "semantic_search_files", "args": {"query": "a sleeping kitten"}},
        ),
    )
    found, nothing = (r["tool_return"] for r in _returns(response))
    assert "Revenue rose" in found
    assert "windowsill" not in found
    assert nothing == "No semantic matches found for query: 'a sleeping kitten'"


def test_an_agents_files_page_on_with_next_cursor(client: Any) -> None:
    """`next_cursor` leads to the next page whether it comes back as `cursor` (the 1.x SDK's
    parameter for it) or `after`; the SDK's own iteration walks every page once."""
    folder = client.folders.create(name=unique("paged"))
    for i in range(5):
        client.folders.files.upload(folder.id, file=(f"f{i}.txt", io.BytesIO(f"file {i}".encode())))
    agent = client.agents.create(name=unique("pager"), model="test/echo")
    client.agents.folders.attach(folder.id, agent_id=agent.id)
    # Files attached at once share their creation time: their order is (time, id).
    expected = [f.file_name for f in client.agents.files.list(agent.id).files]
    assert sorted(expected) == [f"{folder.name}/f{i}.txt" for i in range(5)]

    first = client.agents.files.list(agent.id, limit=2)
    assert ([f.file_name for f in first.files], first.has_more) == (expected[:2], True)
    second = client.agents.files.list(agent.id, limit=2, cursor=first.next_cursor)
    assert [f.file_name for f in second.files] == expected[2:4]
    third = client.agents.files.list(agent.id, limit=2, after=second.next_cursor)
    assert ([f.file_name for f in third.files], third.has_more) == (expected[4:], False)
    assert [f.file_name for f in client.agents.files.list(agent.id, limit=2)] == expected
