"""A folder's name may not hold '/' (agents name files `folder/file`), through both SDK lines
on a real server: refused at creation and rename with a 422 naming the rule, changing
nothing; a folder named so before the rule keeps working; an Agent File's folders and files
named with '/' import under names without it."""

import asyncio
import io
import json
from typing import Any

import httpx
import letta_client
import pytest
from sqlalchemy import update

from tests.server.helpers import unique
from tests.server.test_agent_file import WORKFLOW, example
from tests.server.test_folders import NOTES
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess
from troupe.store import Database
from troupe.store.file_tables import FolderRow

RULE = "must not hold '/'"


def test_the_current_sdk_cannot_name_a_folder_with_a_slash(client: Any) -> None:
    name = f"{unique('team')}/docs"
    with pytest.raises(letta_client.UnprocessableEntityError) as refused:
        client.folders.create(name=name)
    assert RULE in str(refused.value.body)
    assert list(client.folders.list(name=name)) == []

    folder = client.folders.create(name=unique("docs"), description="kept")
    with pytest.raises(letta_client.UnprocessableEntityError) as renamed:
        client.folders.update(folder.id, name=f"{folder.name}/v2", description="changed")
    assert RULE in str(renamed.value.body)
    kept = client.folders.retrieve(folder.id)
    assert (kept.name, kept.description) == (folder.name, "kept")


def test_the_legacy_sdk_cannot_name_a_source_with_a_slash(legacy_client: Any) -> None:
    api_error = legacy_sdk().core.api_error.ApiError
    name = f"{unique('team')}/docs"
    with pytest.raises(api_error) as refused:
        legacy_client.sources.create(name=name)
    assert refused.value.status_code == 422
    assert RULE in str(refused.value.body)
    assert name not in [s.name for s in legacy_client.sources.list()]

    source = legacy_client.sources.create(name=unique("docs"))
    with pytest.raises(api_error) as renamed:
        legacy_client.sources.modify(source_id=source.id, name="a/b", description="changed")
    assert renamed.value.status_code == 422
    kept = legacy_client.sources.retrieve(source_id=source.id)
    assert (kept.name, kept.description) == (source.name, None)


def _name_in_store(database_url: str, folder_id: str, name: str) -> None:
    """Name the folder as an older troupe could have: straight in its store."""

    async def write() -> None:
        db = Database(database_url)
        try:
            async with db.write() as session:
                await session.execute(
                    update(FolderRow).where(FolderRow.id == folder_id).values(name=name)
                )
        finally:
            await db.dispose()

    asyncio.run(write())


def test_a_folder_named_with_a_slash_before_the_rule_keeps_working(
    server: ServerProcess, client: Any, legacy_client: Any
) -> None:
    folder = client.folders.create(name=unique("docs"))
    client.folders.files.upload(folder.id, file=("notes.md", io.BytesIO(NOTES.encode())))
    agent = client.agents.create(name=unique("reader"), model="test/echo")
    client.agents.folders.attach(folder.id, agent_id=agent.id)
    old = f"{unique('team')}/docs"
    _name_in_store(server.database_url, folder.id, old)

    assert client.folders.retrieve(folder.id).name == old
    assert [f.id for f in client.folders.list(name=old)] == [folder.id]
    assert [f.file_name for f in client.folders.files.list(folder.id)] == ["notes.md"]
    [seen] = list(client.agents.files.list(agent.id))
    assert (seen.folder_name, seen.file_name) == (old, f"{old}/notes.md")
    # Changes that keep the name, even sent back unchanged, are no rename.
    assert client.folders.update(folder.id, description="d").name == old
    assert client.folders.update(folder.id, name=old, instructions="i").name == old
    with pytest.raises(letta_client.UnprocessableEntityError):
        client.folders.update(folder.id, name=f"{old}/v2")
    assert client.folders.retrieve(folder.id).name == old
    fixed = old.replace("/", "-")
    assert client.folders.update(folder.id, name=fixed).name == fixed
    assert [f.file_name for f in client.agents.files.list(agent.id)] == [f"{fixed}/notes.md"]

    _name_in_store(server.database_url, folder.id, old)
    assert legacy_client.sources.retrieve(source_id=folder.id).name == old
    legacy_client.sources.delete(source_id=folder.id)
    assert list(client.folders.list(name=old)) == []
    assert list(client.agents.files.list(agent.id)) == []


def _import(http: httpx.Client, document: dict[str, Any]) -> httpx.Response:
    data = json.dumps(document).encode()
    return http.post("/v1/agents/import", files={"file": ("team.af", data)})


def _with_folder(name: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """Letta's example Agent File, its agent given one folder of `files`, named as Letta
    writes them (`folder/file`)."""
    document = example(WORKFLOW)
    agent = document["agents"][0]
    agent["name"] = unique("reader")
    document["sources"] = [{"id": "source-0", "name": name}]
    document["files"] = [{"source_id": "source-0", **f} for f in files]
    agent["source_ids"] = ["source-0"]
    agent["files_agents"] = [
        {
            "id": f"file_agent-{i}",
            "agent_id": agent["id"],
            "file_id": f["id"],
            "source_id": "source-0",
            "file_name": f["file_name"],
            "is_open": True,
        }
        for i, f in enumerate(files)
    ]
    return document


def test_an_agent_files_slashes_are_replaced_at_import(http: httpx.Client, client: Any) -> None:
    name = f"{unique('team')}/docs"
    document = _with_folder(
        name,
        [
            {"id": "file-0", "file_name": f"{name}/notes.md", "original_file_name": "notes.md",
             "content": NOTES},
        ],
    )  # fmt: skip
    response = _import(http, document)
    assert response.status_code == 200, response.text
    [agent_id] = response.json()["agent_ids"]
    [folder] = list(client.agents.folders.list(agent_id))
    assert folder.name == name.replace("/", "-")
    [file] = list(client.folders.files.list(folder.id))
    assert (file.file_name, file.original_file_name) == ("notes.md", "notes.md")
    [seen] = list(client.agents.files.list(agent_id))
    assert (seen.file_name, seen.is_open) == (f"{folder.name}/notes.md", True)


def test_an_agent_file_whose_files_share_a_name_imports_nothing(
    http: httpx.Client, client: Any
) -> None:
    name = unique("docs")
    document = _with_folder(
        name,
        [
            {"id": "file-0", "file_name": "a/notes.md", "content": "one"},
            {"id": "file-1", "file_name": "b/notes.md", "content": "two"},
        ],
    )
    response = _import(http, document)
    assert response.status_code == 422, response.text
    assert "both named 'notes.md'" in json.dumps(response.json())
    assert http.get("/v1/agents", params={"name": document["agents"][0]["name"]}).json() == []
    assert list(client.folders.list(name=name)) == []
