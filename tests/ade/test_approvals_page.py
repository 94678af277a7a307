"""Human in the loop in the ADE: a call that needs approval shows its arguments with Approve
and Deny in the chat; answering there runs (or refuses) the tool and the turn goes on."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ade.conftest import SCREENSHOTS
from tests.server.helpers import make_agent, script, unique
from tests.support.servers import ServerProcess

LAUNCH = '''def launch_{suffix}(target: str, count: int) -> str:
    """Launch something that needs a human's go-ahead.

    Args:
        target: What to launch.
        count: How many.
    """
    return f"launched {{count}} x {{target}}"
'''


def guarded_agent(api: httpx.Client) -> tuple[dict[str, Any], str]:
    suffix = unique("l").replace("-", "_")
    tool = api.put("/v1/tools/", json={"source_code": LAUNCH.format(suffix=suffix)}).json()
    rules = [{"type": "requires_approval", "tool_name": tool["name"]}]
    agent = make_agent(api, name=unique("guarded"), tool_ids=[tool["id"]], tool_rules=rules)
    return agent, tool["name"]


def ask(page: Any, tool_name: str) -> None:
    text = script(
        {"tool": tool_name, "args": {"target": "rocket", "count": 3}},
        {"tool": "send_message", "args": {"message": "all done"}},
    )
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def test_approving_in_the_chat_runs_the_call(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent, tool_name = guarded_agent(api)
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    ask(page, tool_name)
    request = page.locator("#history .msg-approval_request_message")
    expect(request).to_contain_text(tool_name)
    expect(request).to_contain_text("rocket")  # the call's arguments are shown
    expect(request).to_contain_text("3")
    expect(page.locator(".chat-status")).to_have_text(
        "Waiting for your approval of the call above."
    )
    page.screenshot(path=str(SCREENSHOTS / "approval.png"))
    request.get_by_role("button", name="Approve").click()
    history = page.locator("#history")
    expect(history.locator(".msg-tool_return_message")).to_contain_text("launched 3 x rocket")
    expect(history.locator(".msg-assistant_message").last).to_contain_text("all done")
    expect(page.locator(".approval-controls")).to_have_count(0)
    stored = api.get(f"/v1/agents/{agent['id']}/messages").json()
    assert [m["approve"] for m in stored if m["message_type"] == "approval_response_message"] == [
        True
    ]


def test_denying_with_a_reason_and_a_waiting_call_after_reload(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent, tool_name = guarded_agent(api)
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    ask(page, tool_name)
    expect(page.locator("#history .msg-approval_request_message")).to_have_count(1)
    # A fresh load of the page still offers the answer: the server says the call waits.
    page.reload()
    request = page.locator("#history .msg-approval_request_message")
    request.get_by_label("Reason").fill("not today")
    request.get_by_role("button", name="Deny").click()
    returned = page.locator("#history .msg-tool_return_message")
    expect(returned).to_contain_text("request to call tool denied")
    expect(returned).to_contain_text("not today")
    expect(page.locator("#history .msg-assistant_message").last).to_contain_text("all done")
    expect(page.locator(".approval-controls")).to_have_count(0)
