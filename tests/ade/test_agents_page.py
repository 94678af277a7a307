"""The agents list: agents made through the API appear with their tags, the tag filter
matches all or any, and agents are created and deleted from the page."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.server.helpers import make_agent, unique
from tests.support.servers import ServerProcess


def test_agents_created_through_the_api_are_listed_and_filtered_by_tags(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    team, extra = unique("team"), unique("extra")
    both = make_agent(api, name=unique("both"), tags=[team, extra])
    only_team = make_agent(api, name=unique("team-only"), tags=[team])
    only_extra = make_agent(api, name=unique("extra-only"), tags=[extra])
    page.goto(ade_server.url)
    rows = page.locator("table.agents tbody tr")
    for agent in (both, only_team, only_extra):
        row = rows.filter(has_text=agent["name"])
        expect(row).to_have_count(1)
        for tag in agent["tags"]:
            expect(row.locator(".chip", has_text=tag)).to_be_visible()
        expect(row).to_contain_text(agent["model"])

    page.get_by_role("button", name=team, exact=True).click()
    page.get_by_role("button", name=extra, exact=True).click()
    expect(page.get_by_role("button", name=team, exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(rows).to_have_count(1)  # match all: only the agent with both tags
    expect(rows.first).to_contain_text(both["name"])

    page.get_by_label("match any").check()
    expect(rows).to_have_count(3)
    assert "match=any" in page.url


def test_an_agent_is_created_and_deleted_from_the_page(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    name = unique("made-in-ade")
    page.goto(ade_server.url)
    page.get_by_text("New agent").click()
    form = page.locator("#create-agent")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Model").fill("test/echo")
    form.get_by_label("Tags").fill("ade, made")
    form.get_by_label("Persona block").fill("I was made in the ADE.")
    form.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    agent_id = page.url.rsplit("/", 1)[-1]
    created = api.get(f"/v1/agents/{agent_id}").json()
    assert created["tags"] == ["ade", "made"]
    assert [b["value"] for b in created["blocks"] if b["label"] == "persona"] == [
        "I was made in the ADE."
    ]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete agent").click()
    expect(page.get_by_role("heading", name="Agents")).to_be_visible()
    expect(page.locator("table.agents")).not_to_contain_text(name)
    assert api.get(f"/v1/agents/{agent_id}").status_code == 404

    # From the list too; dismissing the confirmation keeps the agent.
    other = make_agent(api, name=unique("doomed"))
    page.reload()
    row = page.locator(f"tr[data-agent-id='{other['id']}']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()
    assert api.get(f"/v1/agents/{other['id']}").status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert api.get(f"/v1/agents/{other['id']}").status_code == 404
