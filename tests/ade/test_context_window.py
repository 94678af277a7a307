"""The context window view of an agent's page: the tokens by part, the summary of the
messages that left the context, and summarising on demand."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ade.conftest import SCREENSHOTS
from tests.server.helpers import make_agent, send
from tests.support.servers import ServerProcess

RECALL = "test/function:tests.support.models:recall"


def test_the_context_window_shows_its_parts_and_the_summary_and_summarises_on_demand(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(
        api,
        name="long-talker",
        model=RECALL,
        context_window_limit=2000,
        compaction_settings={"model": "test/summarizer"},
        memory_blocks=[{"label": "human", "value": "Name: Ada"}],
    )
    send(api, agent["id"], "My locker code is 4721.")
    for i in range(1, 40):
        send(api, agent["id"], f"Note {i}: the weather report says it may rain later today.")
    view = api.get(f"/v1/agents/{agent['id']}/context").json()
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    context = page.locator("#context")
    expect(context.locator("#context-current")).to_have_text(
        f"{view['context_window_size_current']} / 2000"
    )
    for part in ("num_tokens_system", "num_tokens_summary_memory", "num_tokens_messages"):
        expect(context.locator(f"tr[data-part={part}] td.num")).to_have_text(str(view[part]))
    summary = context.locator("#context-summary")
    summary.locator("summary").click()
    expect(summary.locator("pre")).to_contain_text("My locker code is 4721.")
    expect(context.locator("#context-counts")).to_contain_text(
        f"{view['num_messages']} messages in context"
    )
    context.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "context-window.png"), full_page=True)

    context.locator("#summarize").click()
    expect(context.locator(".save-status")).to_contain_text("Summarized:")
    after = api.get(f"/v1/agents/{agent['id']}/context").json()
    assert after["num_messages"] < view["num_messages"]
    expect(context.locator("#context-counts")).to_contain_text(
        f"{after['num_messages']} messages in context"
    )
