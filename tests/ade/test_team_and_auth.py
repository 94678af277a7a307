"""The blocks page and the team view, and the ADE on a server with an API key."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.ade.conftest import hold_answers
from tests.server.helpers import make_agent, unique
from tests.support.servers import ServerProcess

KEY = "ade-key-" + "k" * 16


def test_the_blocks_page_lists_holders_and_saves_with_the_version(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    label = unique("brief")
    block = api.post("/v1/blocks", json={"label": label, "value": "v1 text"}).json()
    holders = [make_agent(api, name=unique("holder"), block_ids=[block["id"]]) for _ in range(2)]
    page.goto(f"{ade_server.url}/#/blocks")
    editor = page.locator(f"form.block[data-block-id='{block['id']}']")
    for agent in holders:
        expect(editor.locator(".shared")).to_contain_text(agent["name"])
    expect(editor.locator(".shared-chip")).to_be_visible()
    editor.locator("textarea").fill("v2 text")
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".save-status")).to_have_text(f"Saved as v{block['version'] + 1}.")
    assert (
        api.get(f"/v1/agents/{holders[1]['id']}/core-memory/blocks/{label}").json()["value"]
        == "v2 text"
    )


def test_the_team_view_groups_agents_by_tag_and_draws_their_shared_blocks(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    team = unique("crew")
    board = api.post("/v1/blocks", json={"label": unique("board"), "value": "todo"}).json()
    lead = make_agent(api, name=unique("lead"), tags=[team, "lead"], block_ids=[board["id"]])
    hands = [
        make_agent(api, name=unique("hand"), tags=[team], block_ids=[board["id"]]) for _ in range(2)
    ]
    page.goto(f"{ade_server.url}/#/team")
    group = page.locator(f"section.team[data-tag='{team}']")
    for agent in [lead, *hands]:
        expect(group.get_by_role("link", name=agent["name"])).to_be_visible()
    expect(page.locator("section.team[data-tag='lead']")).to_contain_text(lead["name"])
    shared = page.locator("tr", has_text=board["label"])
    for agent in [lead, *hands]:
        expect(shared).to_contain_text(agent["name"])
    graph = page.locator("#team-diagram svg")
    expect(graph).to_contain_text(board["label"])
    expect(graph).to_contain_text(lead["name"])


@pytest.fixture(scope="module")
def keyed(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_factory("sqlite"),
        tmp_path_factory.mktemp("ade-keyed"),
        env={"TROUPE_API_KEY": KEY},
    )
    server.start()
    yield server
    server.stop()


def test_with_an_api_key_the_ade_asks_once_and_sends_it_on_every_request(
    keyed: ServerProcess, page: Any
) -> None:
    with httpx.Client(base_url=keyed.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
        make_agent(api, name="guarded", model="test/echo@300ms")
    assert httpx.get(f"{keyed.url}/").status_code == 200  # the page itself holds no data
    assert httpx.get(f"{keyed.url}/v1/agents").status_code == 401

    page.goto(keyed.url)
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("needs its API key")
    page.keyboard.press("Escape")  # dismissed: the page says why it shows nothing
    expect(page.locator("main .error")).to_contain_text("needs its API key")
    page.reload()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Key").fill("not-the-key")
    dialog.get_by_label("Key").press("Enter")
    expect(dialog).to_contain_text("refused that key")
    dialog.get_by_label("Key").fill(KEY)
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("table.agents")).to_contain_text("guarded")

    # Kept: a reload and other pages ask no more; the chat's stream sends it too.
    page.reload()
    page.get_by_role("link", name="guarded").click()
    page.get_by_label("Message", exact=True).fill("hello there")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(
        page.locator("#history .msg-assistant_message", has_text="echo: hello there")
    ).to_be_visible()
    expect(dialog).to_be_hidden()
    views = {"#/runs": "Runs", "#/traces": "Traces", "#/team": "Team", "#/blocks": "Memory blocks"}
    for view, title in views.items():
        page.goto(f"{keyed.url}/{view}")
        expect(page.locator("main h1")).to_have_text(title)  # the view has started...
        expect(page.locator("main")).to_have_attribute("aria-busy", "false")  # ...and finished
        expect(page.locator("main .error")).to_have_count(0)
        expect(page.locator("main table, main .empty").first).to_be_visible()
    expect(dialog).to_be_hidden()


def test_a_refusal_that_arrives_after_the_key_was_given_does_not_ask_again(
    keyed: ServerProcess, page: Any
) -> None:
    # The agents list sends three requests without a key: two are refused at once, and the
    # answer to the third comes only after the user has entered the key (on a busy machine,
    # now and then). It was refused for the old key; the new one is tried, nothing asked.
    release = hold_answers(
        page, "(url, headers) => url.includes('/v1/activity') && !headers.Authorization"
    )
    page.goto(keyed.url)
    dialog = page.locator("#key-dialog")
    expect(dialog).to_contain_text("needs its API key")
    dialog.get_by_label("Key").fill(KEY)
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog).to_be_hidden()
    release()
    expect(page.locator("main")).to_have_attribute("aria-busy", "false")
    expect(page.locator("main .error")).to_have_count(0)
    expect(dialog).to_be_hidden()
