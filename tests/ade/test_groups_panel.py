"""An agent's page shows the groups it is in (manager type, members) and its sleep-time
pairing, from either side of the pair."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ade.conftest import SCREENSHOTS
from tests.server.helpers import make_agent, unique
from tests.support.servers import ServerProcess


def test_the_agent_page_shows_groups_and_the_sleeptime_pair(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    primary = make_agent(api, name=unique("keeper"), enable_sleeptime=True)
    (sleeper_id,) = primary["multi_agent_group"]["agent_ids"]
    sleeper = api.get(f"/v1/agents/{sleeper_id}").json()
    peer = make_agent(api, name=unique("peer"))
    group = api.post(
        "/v1/groups",
        json={
            "agent_ids": [primary["id"], peer["id"]],
            "description": "standup",
            "manager_config": {"manager_type": "round_robin", "max_turns": 4},
        },
    ).json()

    page.goto(f"{ade_server.url}/#/agents/{primary['id']}")
    pair = page.locator("#sleeptime-pair")
    expect(pair).to_contain_text("Sleep-time agent:")
    expect(pair.get_by_role("link", name=sleeper["name"])).to_be_visible()
    card = page.locator(f'.group[data-group-id="{group["id"]}"]')
    expect(card).to_contain_text("Round robin")
    expect(card).to_contain_text("standup")
    expect(card).to_contain_text("max_turns 4")
    expect(card.get_by_role("link", name=peer["name"])).to_be_visible()
    page.locator("#groups").screenshot(path=str(SCREENSHOTS / "ade-groups.png"))

    pair.get_by_role("link", name=sleeper["name"]).click()  # to the sleep-time agent's page
    expect(page.locator("#sleeptime-pair")).to_contain_text(
        f"Sleep-time agent of {primary['name']}"
    )
    expect(page.locator('.group[data-manager-type="sleeptime"]')).to_contain_text("Manager:")
