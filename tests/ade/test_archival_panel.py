"""The archival memory panel of an agent's page: a passage stored from the page (with tags),
found by a question sharing none of its words, and deleted."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.server.helpers import make_agent
from tests.support.servers import ServerProcess

FACT = "Our grandmother bakes rye bread every Sunday morning."


def test_archival_memory_is_stored_searched_and_deleted_from_the_page(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(api, model="test/echo")
    api.post(f"/v1/agents/{agent['id']}/archival-memory", json={"text": "The car is blue."})
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    panel = page.locator("#archival")
    expect(panel.locator("table.archival tbody tr")).to_have_count(1)

    panel.get_by_label("New passage").fill(FACT)
    panel.get_by_label("Tags (comma-separated)").fill("family, food")
    panel.get_by_role("button", name="Store passage").click()
    expect(panel.locator("#archival-status")).to_have_text("Stored.")
    row = panel.locator("table.archival tbody tr", has_text=FACT)
    expect(row).to_contain_text("family, food")
    [stored] = [
        p for p in api.get(f"/v1/agents/{agent['id']}/archival-memory").json() if p["text"] == FACT
    ]
    assert stored["tags"] == ["family", "food"]
    assert len(stored["embedding"]) == 384

    panel.get_by_label("Search archival memory").fill("what does granny cook at weekends?")
    panel.get_by_role("button", name="Search").click()
    expect(panel.locator("ol.archival-hits li").first).to_contain_text(FACT)

    row.get_by_role("button", name="Delete").click()
    expect(panel.locator("#archival-status")).to_have_text("Deleted.")
    expect(panel.locator("table.archival tbody tr")).to_have_count(1)
    texts = [p["text"] for p in api.get(f"/v1/agents/{agent['id']}/archival-memory").json()]
    assert texts == ["The car is blue."]
