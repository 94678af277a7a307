"""The scheduled messages panel of an agent's page: a recurring message scheduled from the
page is listed (with when it fires next) and stored as the SDK reads it, a bad cron
expression is refused with the server's reason, and a schedule is deleted."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.server.helpers import make_agent
from tests.support.servers import ServerProcess

LATER_MS = 4_102_444_800_000  # 2100-01-01, never due during the test


def test_schedules_are_listed_created_and_deleted_from_the_page(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(api, model="test/echo")
    created = api.post(
        f"/v1/agents/{agent['id']}/schedule",
        json={
            "messages": [{"role": "user", "content": "New year greetings"}],
            "schedule": {"type": "one-time", "scheduled_at": LATER_MS},
        },
    )
    assert created.status_code == 200, created.text
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    panel = page.locator("#schedules")
    rows = panel.locator("table.schedules tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("New year greetings")

    panel.get_by_label("Message to send").fill("Standup time")
    panel.get_by_label("Schedule kind").select_option("recurring")
    panel.get_by_label("Cron expression").fill("not a cron")
    panel.get_by_role("button", name="Schedule message").click()
    expect(panel.locator("#schedules-status")).to_contain_text("Not scheduled")
    expect(rows).to_have_count(1)

    panel.get_by_label("Cron expression").fill("0 9 * * 1-5")
    panel.get_by_role("button", name="Schedule message").click()
    expect(panel.locator("#schedules-status")).to_have_text("Scheduled.")
    standup = panel.locator("table.schedules tbody tr", has_text="Standup time")
    expect(standup).to_contain_text("cron 0 9 * * 1-5")
    listed = api.get(f"/v1/agents/{agent['id']}/schedule").json()["scheduled_messages"]
    recurring = [s for s in listed if s["schedule"]["type"] == "recurring"]
    assert [s["schedule"]["cron_expression"] for s in recurring] == ["0 9 * * 1-5"]
    assert recurring[0]["next_scheduled_time"]

    rows.filter(has_text="New year greetings").get_by_role("button", name="Delete").click()
    expect(panel.locator("#schedules-status")).to_have_text("Deleted.")
    expect(rows).to_have_count(1)
    left = api.get(f"/v1/agents/{agent['id']}/schedule").json()["scheduled_messages"]
    assert [s["id"] for s in left] == [recurring[0]["id"]]
