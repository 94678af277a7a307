"""An agent's page: the streamed chat reply, every message type readable, cross-agent traffic
as sender → receiver, and shared memory blocks edited with version-aware saves."""

import time
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ade.conftest import SCREENSHOTS, hold_answers
from tests.server.helpers import make_agent, script, send, unique
from tests.support.servers import ServerProcess

NOTE_TAKER = "test/function:tests.support.models:note_taker@600ms"
PONGER = "test/function:tests.support.models:ponger"

# Records, in the page, when each message element is added to the history.
RECORD_ARRIVALS = """() => {
  window.arrivals = [];
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const node of change.addedNodes)
        if (node.dataset && node.dataset.type)
          window.arrivals.push({type: node.dataset.type, text: node.textContent, at: performance.now()});
  }).observe(document.getElementById("history"), {childList: true});
}"""


def _wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_chat_reply_streams_in_step_by_step(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    team = api.post("/v1/blocks", json={"label": "team_notes", "value": "Q3 focus: churn"}).json()
    agent = make_agent(
        api,
        name="analyst",
        model=NOTE_TAKER,
        tags=["analytics", "ade-demo"],
        tools=["send_message_to_agent_async"],
        memory_blocks=[
            {"label": "persona", "value": "I am an analyst. I keep notes about the people I help."},
            {"label": "human", "value": "Name: Sam"},
        ],
        block_ids=[team["id"]],
    )
    make_agent(api, name="reviewer", block_ids=[team["id"]])
    # Some cross-agent history first: an async message to a peer, and its answer coming back.
    peer = make_agent(api, name="peer", model=PONGER, tools=["send_message_to_agent_async"])
    send(
        api,
        agent["id"],
        script(
            {
                "tool": "send_message_to_agent_async",
                "args": {"message": "ping", "other_agent_id": peer["id"]},
            }
        ),
    )

    def pong_arrived() -> bool:
        history = api.get(f"/v1/agents/{agent['id']}/messages").json()
        return any(
            m["message_type"] == "assistant_message" and m["content"] == "Got 'pong' back."
            for m in history
        )

    assert _wait_for(pong_arrived)

    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    history = page.locator("#history")
    call = history.locator(".msg-tool_call_message", has_text="send_message_to_agent_async")
    expect(call.locator(".route")).to_have_text(f"{agent['name']} → {peer['name']}")
    delivered = history.locator(".msg-system_message", has_text="pong")
    expect(delivered.locator(".route")).to_have_text(f"{peer['name']} → {agent['name']}")
    expect(delivered.locator("p.text")).to_have_text("pong")  # what was sent, no envelope
    expect(delivered.locator("p.hint")).to_contain_text("To reply")

    page.evaluate(RECORD_ARRIVALS)
    box = page.get_by_label("Message", exact=True)
    box.fill("Remember: Sam prefers tables to charts.")
    box.press("Enter")
    expect(page.locator("#chat")).to_have_attribute("data-streaming", "true")
    reply = history.locator(
        ".msg-assistant_message", has_text="Noted: Sam prefers tables to charts."
    )
    expect(reply).to_be_visible()
    expect(page.locator(".chat-status")).to_have_text("Done (end turn).")

    arrivals = page.evaluate("window.arrivals")
    kinds = [a["type"] for a in arrivals]
    assert kinds.index("tool_call_message") < kinds.index("assistant_message"), kinds
    first_step = next(a for a in arrivals if a["type"] == "tool_call_message")
    last_step = next(a for a in arrivals if a["type"] == "assistant_message")
    # The reply's step runs 600 ms of model time after the first step was shown: it was
    # streamed step by step, not delivered at the end in one piece.
    assert last_step["at"] - first_step["at"] >= 300, arrivals
    thought = history.locator(".msg-reasoning_message").last
    expect(thought).to_contain_text("it belongs in the human block")
    args = history.locator(".msg-tool_call_message", has_text="core_memory_append").last
    expect(args.locator("table.kv")).to_contain_text("Sam prefers tables to charts.")
    expect(history.locator(".msg-tool_return_message").last).to_contain_text("success")

    # The memory panel shows the block the turn just changed, and the shared block's holders.
    expect(page.locator("form.block[data-label=human] textarea")).to_have_value(
        "Name: Sam\nSam prefers tables to charts."
    )
    shared = page.locator("form.block[data-label=team_notes] .shared")
    expect(shared).to_contain_text("reviewer")
    expect(page.locator("#chat-input")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / "agent.png"))


def test_typing_in_the_chat_box_while_the_page_loads_keeps_the_focus_there(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(api, name=unique("typist"), model="test/echo")
    # The memory column loads last (here: late on purpose); the chat box is usable before.
    release = hold_answers(page, "(url) => url.includes('/core-memory/blocks')")
    page.goto(ade_server.url)
    page.get_by_role("link", name=agent["name"]).click()  # the view changes in place
    box = page.get_by_label("Message", exact=True)
    box.fill("hello")
    release()
    expect(page.locator("main")).to_have_attribute("aria-busy", "false")  # the view has loaded
    expect(box).to_be_focused()  # ...and left the focus where the user had put it
    page.keyboard.type(" there")
    page.keyboard.press("Enter")
    expect(
        page.locator("#history .msg-assistant_message", has_text="echo: hello there")
    ).to_be_visible()


def _open_block(page: Any, url: str, agent_id: str, label: str) -> Any:
    page.goto(f"{url}/#/agents/{agent_id}")
    block = page.locator(f"form.block[data-label={label}]")
    expect(block.locator("textarea")).to_be_visible()
    return block


def test_a_shared_block_edited_on_one_agents_page_shows_on_the_others(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    plan = api.post("/v1/blocks", json={"label": "plan", "value": "1. gather data"}).json()
    first = make_agent(api, name=unique("first"), block_ids=[plan["id"]])
    second = make_agent(api, name=unique("second"), block_ids=[plan["id"]])
    block = _open_block(page, ade_server.url, first["id"], "plan")
    expect(block.locator(".shared")).to_contain_text(second["name"])
    block.locator("textarea").fill("1. gather data\n2. write the report")
    block.get_by_role("button", name="Save").click()
    expect(block.locator(".save-status")).to_have_text(f"Saved as v{plan['version'] + 1}.")

    block.locator(".shared").get_by_role("link", name=second["name"]).click()
    expect(page.get_by_role("heading", name=second["name"])).to_be_visible()
    other = page.locator("form.block[data-label=plan]")
    expect(other.locator("textarea")).to_have_value("1. gather data\n2. write the report")
    expect(other.locator(".shared")).to_contain_text(first["name"])


def test_a_second_browser_saving_a_stale_block_sees_the_conflict(
    ade_server: ServerProcess, api: httpx.Client, new_page: Any
) -> None:
    plan = api.post("/v1/blocks", json={"label": "plan", "value": "draft"}).json()
    agent = make_agent(api, name=unique("planner"), block_ids=[plan["id"]])
    alice = _open_block(new_page(), ade_server.url, agent["id"], "plan")
    bob = _open_block(new_page(), ade_server.url, agent["id"], "plan")

    alice.locator("textarea").fill("alice's plan")
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator(".save-status")).to_contain_text("Saved")

    bob.locator("textarea").fill("bob's plan")
    bob.get_by_role("button", name="Save").click()
    conflict = bob.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("someone changed “plan”")
    expect(conflict.locator("pre.theirs")).to_have_text("alice's plan")
    expect(bob.locator("textarea")).to_have_value("bob's plan")  # his edit is kept, unsent
    assert api.get(f"/v1/blocks/{plan['id']}").json()["value"] == "alice's plan"

    # Overwriting is a deliberate second step, made against the version he has now seen.
    conflict.get_by_role("button", name="Save mine over it").click()
    expect(bob.locator(".save-status")).to_have_text(f"Saved as v{plan['version'] + 2}.")
    expect(conflict).to_be_hidden()
    assert api.get(f"/v1/blocks/{plan['id']}").json()["value"] == "bob's plan"

    alice.locator("textarea").fill("alice again")
    alice.get_by_role("button", name="Save").click()
    expect(alice.locator(".conflict pre.theirs")).to_have_text("bob's plan")
    alice.get_by_role("button", name="Take the current value").click()
    expect(alice.locator("textarea")).to_have_value("bob's plan")
    assert api.get(f"/v1/blocks/{plan['id']}").json()["value"] == "bob's plan"


def test_tools_rules_tags_and_system_prompt_are_shown_and_saved(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(
        api,
        name=unique("ruled"),
        tags=["alpha"],
        tool_rules=[
            {"type": "run_first", "tool_name": "conversation_search"},
            {
                "type": "constrain_child_tools",
                "tool_name": "conversation_search",
                "children": ["send_message"],
            },
            {"type": "exit_loop", "tool_name": "not_attached_yet"},
        ],
    )
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    tools = page.locator("table.tools")
    for tool in agent["tools"]:
        expect(tools.get_by_text(tool["name"], exact=True)).to_be_visible()
    rules = page.locator("section", has=page.get_by_role("heading", name="Tool rules"))
    expect(rules.locator("tbody tr")).to_have_count(3)
    expect(rules.locator("tbody tr").nth(1)).to_contain_text("constrain_child_tools")
    expect(rules.locator("tbody tr").nth(1)).to_contain_text("children: send_message")
    expect(rules.locator(".rule-inert")).to_have_count(1)  # only the rule of a missing tool
    expect(rules.locator("tbody tr").nth(2)).to_contain_text("inert: not attached")

    page.get_by_label("Tags, comma separated").fill("alpha, beta")
    page.get_by_role("button", name="Save tags").click()
    expect(page.locator(".chips a", has_text="beta")).to_be_visible()
    assert api.get(f"/v1/agents/{agent['id']}").json()["tags"] == ["alpha", "beta"]

    page.get_by_text("show and edit").click()
    page.get_by_label("System prompt").fill("You are terse.")
    page.get_by_role("button", name="Save system prompt").click()
    expect(page.locator("details .save-status")).to_have_text("Saved.")
    assert api.get(f"/v1/agents/{agent['id']}").json()["system"] == "You are terse."


def test_a_failed_turn_in_the_chat_shows_why(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(api, name=unique("down"), model="test/function:tests.support.models:broken")
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    page.get_by_label("Message", exact=True).fill("anyone there?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#history .msg-error_message")).to_contain_text("the model is down")
    expect(page.locator(".chat-status")).to_have_text("The turn failed.")
    expect(page.locator("#history .msg-user_message")).to_contain_text("anyone there?")

    # What the server kept: the message is in the stored history, which Reload reads again.
    page.get_by_role("button", name="Reload").click()
    expect(page.locator("#history .msg-user_message")).to_have_count(1)
    expect(page.locator("#history .msg-error_message")).to_have_count(0)
    expect(page.locator("#history .msg-user_message")).to_contain_text("anyone there?")


def test_a_turn_the_provider_failed_shows_lettas_stop_reason(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    """Not "Done (llm api_error)": every stop reason that fails the run reads as a failure."""
    model = "test/function:tests.support.models:unreachable"
    agent = make_agent(api, name=unique("down"), model=model)
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    page.get_by_label("Message", exact=True).fill("anyone there?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#history .msg-error_message")).to_contain_text("HTTP 503")
    expect(page.locator(".chat-status")).to_have_text("The turn failed (llm_api_error).")
