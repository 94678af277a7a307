"""Traces and runs in the browser: a supervisor–worker broadcast as a run tree and a drawn
sequence diagram; a failed run with its error."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.ade.conftest import SCREENSHOTS
from tests.server.helpers import make_agent, script, send, unique
from tests.support.servers import ServerProcess

BROKEN = "test/function:tests.support.models:broken"
DELEGATOR = "test/function:tests.support.models:delegator"
WORKER = "test/function:tests.support.models:worker"


def test_a_broadcast_trace_shows_its_run_tree_and_a_diagram_naming_every_agent(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    team = unique("sales")
    supervisor = make_agent(
        api,
        name="supervisor",
        model=DELEGATOR,
        tags=[team, "lead"],
        tools=["send_message_to_agents_matching_all_tags"],
    )
    workers = [
        make_agent(api, name=f"worker_{i}", model=WORKER, tags=[team, "worker"]) for i in (1, 2, 3)
    ]
    result = send(api, supervisor["id"], f"Ask {team}, worker: Analyse the Q3 sales figures")
    trace_id = api.get(f"/v1/runs/{result['messages'][0]['run_id']}").json()["trace_id"]

    page.goto(f"{ade_server.url}/#/traces?agent={supervisor['id']}")
    row = page.locator(f"table.traces tr[data-trace-id='{trace_id}']")
    expect(row).to_contain_text("supervisor")
    expect(row.locator(".badge")).to_have_text("completed")
    row.get_by_role("link", name="open").click()

    diagram = page.locator("#sequence-diagram svg")
    expect(diagram).to_be_visible()
    for agent in [supervisor, *workers]:
        expect(diagram).to_contain_text(agent["name"])
    expect(diagram).to_contain_text("Report on: Analyse the Q3 sales figures")
    expect(diagram).not_to_contain_text("[Message from")
    tree = page.locator("table.run-tree > tbody > tr")
    expect(tree).to_have_count(4)
    expect(tree.first).to_contain_text("request")
    for worker_row in tree.all()[1:]:
        expect(worker_row).to_contain_text("call")
        expect(worker_row.locator(".badge")).to_have_text("completed")
        expect(worker_row.locator(".timeline .bar")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "trace.png"), full_page=True)  # diagram and tree

    tree.first.get_by_text("messages").click()  # a run's messages open in place
    expect(tree.first.locator(".msg-assistant_message")).to_contain_text("3 workers reported back.")


def test_the_runs_list_shows_a_failed_run_with_its_error(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    flaky = make_agent(api, name=unique("flaky"), model=BROKEN)
    failed = api.post(f"/v1/agents/{flaky['id']}/messages", json={"input": "hello"}).json()
    assert failed["stop_reason"]["stop_reason"] == "error"
    run_id = failed["run_id"]

    page.goto(f"{ade_server.url}/#/runs")
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(f"{ade_server.url}/#/runs?status=failed")
    row = page.locator(f"table.runs tr[data-run-id='{run_id}']")
    expect(row.locator(".badge")).to_have_text("failed")
    expect(row).to_contain_text("error")
    expect(row).to_contain_text(flaky["name"])
    error = row.locator("xpath=following-sibling::tr[1]")
    expect(error).to_contain_text("the model is down")
    expect(page.locator("table.runs .badge", has_text="completed")).to_have_count(0)


def test_a_run_stopped_by_max_steps_does_not_look_finished(
    ade_server: ServerProcess, api: httpx.Client, page: Any
) -> None:
    agent = make_agent(api, name=unique("busy"), memory_blocks=[{"label": "human", "value": ""}])
    endless = script(
        *[{"tool": "core_memory_append", "args": {"label": "human", "content": "x"}}] * 3,
        {"tool": "send_message", "args": {"message": "done"}},
    )
    capped = send(api, agent["id"], endless, max_steps=2)
    assert capped["stop_reason"]["stop_reason"] == "max_steps"
    finished = send(api, agent["id"], "hello")
    assert finished["stop_reason"]["stop_reason"] == "end_turn"

    page.goto(f"{ade_server.url}/#/runs?agent={agent['id']}")
    capped_row = page.locator(f"table.runs tr[data-run-id='{capped['run_id']}']")
    expect(capped_row.locator(".badge")).to_have_text("stopped: max steps")
    expect(capped_row.locator(".stop-max-steps")).to_be_visible()
    finished_row = page.locator(f"table.runs tr[data-run-id='{finished['run_id']}']")
    expect(finished_row.locator(".badge")).to_have_text("completed")
    expect(finished_row.locator(".stop-max-steps")).to_have_count(0)

    # The chat asks for the default limit of 50 steps: a script of more.
    longer = script(
        *[{"tool": "core_memory_append", "args": {"label": "human", "content": "y"}}] * 60
    )
    page.goto(f"{ade_server.url}/#/agents/{agent['id']}")
    page.locator("#chat-input").fill(longer)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat-status")).to_contain_text("step limit")
