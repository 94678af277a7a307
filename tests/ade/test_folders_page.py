"""The folders pages: a folder made from the page, files uploaded into it with progress and
their processing status shown, a bad file's refusal shown with nothing listed, a file
deleted, and the agents holding the folder linked."""

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.server.helpers import make_agent, unique
from tests.support.servers import ServerProcess

NOTES = "# Launch notes\n\nThe launch code is PELICAN-42.\n"


def test_a_folder_is_made_and_files_uploaded_from_the_page(
    ade_server: ServerProcess, api: httpx.Client, page: Any, tmp_path: Path
) -> None:
    name = unique("handbook")
    page.goto(f"{ade_server.url}/#/folders")
    form = page.locator("#create-folder")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Description").fill("team rules")
    form.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    folder_id = page.url.rsplit("/", 1)[-1]
    assert api.get(f"/v1/folders/{folder_id}").json()["description"] == "team rules"

    notes = tmp_path / "notes.md"
    notes.write_text(NOTES)
    page.get_by_label("Files to upload").set_input_files(str(notes))
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.locator("table.files tbody tr", has_text="notes.md")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("completed")
    expect(row).to_contain_text("text/markdown")
    expect(row).to_contain_text("1/1")  # passages embedded / passages
    expect(page.get_by_label("Upload progress")).to_have_attribute("value", "100")
    expect(page.locator("#upload-file [role=status]")).to_contain_text("notes.md: completed")
    [stored] = api.get(f"/v1/folders/{folder_id}/files").json()
    assert stored["file_name"] == "notes.md"

    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK\x03\x04 not a text file")
    page.get_by_label("Files to upload").set_input_files(str(bad))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#upload-file [role=status]")).to_contain_text("slides.pptx: cannot read")
    expect(page.locator("table.files tbody tr")).to_have_count(1)

    row.get_by_role("button", name="Delete").click()
    expect(page.locator("table.files")).to_have_count(0)
    assert api.get(f"/v1/folders/{folder_id}/files").json() == []

    page.goto(f"{ade_server.url}/#/folders")
    expect(page.locator("table.folders tbody tr", has_text=name)).to_contain_text("team rules")


def test_a_folder_page_links_the_agents_holding_it(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    folder = api.post("/v1/folders", json={"name": unique("shared")}).json()
    agent = make_agent(api, name=unique("holder"), model="test/echo")
    api.patch(f"/v1/agents/{agent['id']}/folders/attach/{folder['id']}")
    page.goto(f"{ade_server.url}/#/folders/{folder['id']}")
    expect(page.get_by_text("1 agent:")).to_be_visible()
    page.get_by_role("link", name=agent["id"]).click()
    expect(page.get_by_role("heading", name=agent["name"])).to_be_visible()
