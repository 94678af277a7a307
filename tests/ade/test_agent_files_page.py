"""Agent Files in the ADE: an agent's page downloads its .af; the agents list imports one
(and says why it refuses a bad one)."""

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.server.helpers import make_agent, unique
from tests.support.servers import ServerProcess


def test_an_agent_is_exported_and_imported_from_the_pages(
    ade_server: ServerProcess, api: httpx.Client, page: Any, tmp_path: Path
) -> None:
    agent = make_agent(api, name=unique("exported"), tags=["ade-af"])
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    assert download.value.suggested_filename == f"{agent['name']}.af"
    saved = tmp_path / "agent.af"
    download.value.save_as(saved)
    assert [a["name"] for a in json.loads(saved.read_text())["agents"]] == [agent["name"]]

    page.goto(ade_server.url)
    chooser = page.locator("#import-agents input[type=file]")
    bad = tmp_path / "bad.af"
    bad.write_text("{}")
    chooser.set_input_files(bad)
    expect(page.locator("#import-agents")).to_contain_text(
        "Not imported: the file is not an agent file"
    )
    chooser.set_input_files(saved)
    expect(page.get_by_role("heading", name=agent["name"])).to_be_visible()
    copy_id = page.url.rsplit("/", 1)[-1]
    assert copy_id != agent["id"]
    assert api.get(f"/v1/agents/{copy_id}").json()["tags"] == ["ade-af"]
