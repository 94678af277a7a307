"""Human in the loop: a `requires_approval` tool stops the step before the call, the turn
ends with an approval request, and the run goes on when a human answers (approve: the tool
runs; deny: the model gets the denial as the tool's result). Through letta-client 1.12.1
(the 0.1.x line has no approvals) and plain HTTP, on SQLite and PostgreSQL."""

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from letta_client import APIStatusError, Letta

from tests.server.helpers import SCRIPTED, script, unique
from tests.support.servers import ServerProcess

DICE = '''def roll_{suffix}(sides: int) -> str:
    """Roll a die.

    Args:
        sides: How many faces.
    """
    print("rolling")
    return f"rolled {{sides}}"
'''


def dice_tool(client: Letta) -> Any:
    name = unique("d").replace("-", "_")
    return client.tools.upsert(source_code=DICE.format(suffix=name[2:]))


def approval_agent(client: Letta, tool: Any, *, rule: bool = True) -> Any:
    rules = [{"type": "requires_approval", "tool_name": tool.name}] if rule else []
    return client.agents.create(
        name=unique("hitl"), model=SCRIPTED, tool_ids=[tool.id], tool_rules=rules
    )


def ask_to_roll(client: Letta, agent_id: str, tool_name: str) -> Any:
    text = script(
        {"tool": tool_name, "args": {"sides": 6}},
        {"tool": "send_message", "args": {"message": "done"}},
    )
    return client.agents.messages.create(agent_id, messages=[{"role": "user", "content": text}])


def answer(client: Letta, agent_id: str, **approval: Any) -> Any:
    return client.agents.messages.create(
        agent_id, messages=[{"type": "approval", "approvals": [approval]}]
    )


def kinds(messages: list[Any]) -> list[str]:
    return [m.message_type for m in messages]


def test_a_call_needing_approval_stops_the_turn_before_it_runs(client: Letta) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    response = ask_to_roll(client, agent.id, tool.name)
    assert response.stop_reason.stop_reason == "requires_approval"
    request = response.messages[-1]
    assert request.message_type == "approval_request_message"
    assert request.tool_call.name == tool.name
    assert json.loads(request.tool_call.arguments) == {"sides": 6}  # no heartbeat flag
    assert request.tool_calls[0].tool_call_id == request.tool_call.tool_call_id
    assert "tool_return_message" not in kinds(response.messages)  # nothing ran
    history = client.agents.messages.list(agent.id)
    assert history.items[-1].message_type == "approval_request_message"


def test_approving_runs_the_tool_and_the_turn_goes_on(client: Letta) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    call_id = ask_to_roll(client, agent.id, tool.name).messages[-1].tool_call.tool_call_id
    response = answer(client, agent.id, type="approval", tool_call_id=call_id, approve=True)
    returned = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert [(r.tool_call_id, r.status, r.tool_return) for r in returned] == [
        (call_id, "success", "rolled 6")
    ]
    assert returned[0].stdout == ["rolling\n"]
    assert response.messages[-1].message_type == "assistant_message"
    assert response.messages[-1].content == "done"
    assert response.stop_reason.stop_reason == "end_turn"
    history = client.agents.messages.list(agent.id).items
    response_row = next(m for m in history if m.message_type == "approval_response_message")
    assert response_row.approve is True
    assert response_row.approval_request_id == call_id
    assert response_row.approvals[0].tool_call_id == call_id


def test_denying_gives_the_model_the_denial_as_the_result(client: Letta) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    call_id = ask_to_roll(client, agent.id, tool.name).messages[-1].tool_call.tool_call_id
    response = answer(
        client, agent.id, tool_call_id=call_id, approve=False, reason="no gambling today"
    )
    returned = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert returned[0].status == "error"
    assert returned[0].tool_return == (
        "Error: request to call tool denied. User reason: no gambling today"
    )
    assert not returned[0].stdout  # the tool never ran
    assert response.messages[-1].content == "done"  # the model went on after the denial
    history = client.agents.messages.list(agent.id).items
    row = next(m for m in history if m.message_type == "approval_response_message")
    assert row.approvals[0].approve is False
    assert row.approvals[0].reason == "no gambling today"


def test_the_older_approval_fields_answer_the_one_waiting_call(http: httpx.Client) -> None:
    client = Letta(base_url=str(http.base_url))
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    request = ask_to_roll(client, agent.id, tool.name).messages[-1]
    response = http.post(
        f"/v1/agents/{agent.id}/messages",
        json={
            "messages": [{"type": "approval", "approval_request_id": request.id, "approve": True}]
        },
    )
    assert response.status_code == 200, response.text
    returned = [
        m for m in response.json()["messages"] if m["message_type"] == "tool_return_message"
    ]
    assert returned[0]["tool_return"] == "rolled 6"


def test_wrong_stale_and_unexpected_answers_are_refused(client: Letta, http: httpx.Client) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    url = f"/v1/agents/{agent.id}/messages"

    def approve(call_id: str) -> httpx.Response:
        body = {"type": "approval", "approvals": [{"tool_call_id": call_id, "approve": True}]}
        return http.post(url, json={"messages": [body]})

    nothing = approve("call-nobody-made")
    assert nothing.status_code == 409
    assert "No tool call is currently awaiting approval" in nothing.json()["detail"]

    call_id = ask_to_roll(client, agent.id, tool.name).messages[-1].tool_call.tool_call_id

    def recorded() -> tuple[int, int]:
        runs = http.get("/v1/runs/", params={"agent_ids": agent.id, "limit": 1000}).json()
        return len(runs), len(client.agents.messages.list(agent.id, limit=1000).items)

    before = recorded()
    wrong = approve("call-wrong")
    assert wrong.status_code == 422
    assert "Invalid tool call IDs" in wrong.json()["detail"]
    talk = http.post(url, json={"messages": [{"role": "user", "content": "hello?"}]})
    assert talk.status_code == 409
    assert "approve or deny the pending request" in talk.json()["detail"]
    with pytest.raises(APIStatusError):  # the SDK sees the same refusal
        client.agents.messages.create(agent.id, input="hello again")
    streamed = http.post(f"{url}/stream", json={"messages": [{"role": "user", "content": "?"}]})
    assert streamed.status_code == 409
    # Refusals record nothing (no run, no message): the call still waits, and answering
    # it works.
    assert recorded() == before
    assert approve(call_id).status_code == 200
    stale = approve(call_id)
    assert stale.status_code == 409
    assert "No tool call is currently awaiting approval" in stale.json()["detail"]
    assert http.post(url, json={"messages": [{"role": "user", "content": "hi"}]}).status_code == 200


def test_the_approval_switch_takes_the_flag_in_the_body_or_the_query(
    client: Letta, http: httpx.Client
) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool, rule=False)
    state = client.agents.tools.update_approval(
        tool.name, agent_id=agent.id, body_requires_approval=True
    )
    assert {"type": "requires_approval", "tool_name": tool.name} in [
        r.model_dump(exclude_none=True) for r in state.tool_rules
    ]
    assert ask_to_roll(client, agent.id, tool.name).stop_reason.stop_reason == "requires_approval"
    call_id = client.agents.messages.list(agent.id).items[-1].tool_call.tool_call_id
    answer(client, agent.id, tool_call_id=call_id, approve=True)

    off = http.patch(
        f"/v1/agents/{agent.id}/tools/approval/{tool.name}", params={"requires_approval": False}
    )
    assert off.status_code == 200, off.text
    assert not [r for r in off.json()["tool_rules"] if r["type"] == "requires_approval"]
    response = ask_to_roll(client, agent.id, tool.name)
    assert response.stop_reason.stop_reason == "end_turn"
    assert "rolled 6" in [
        m.tool_return for m in response.messages if m.message_type == "tool_return_message"
    ]

    missing = http.patch(f"/v1/agents/{agent.id}/tools/approval/{tool.name}", json={})
    assert missing.status_code == 422
    unknown = http.patch(
        f"/v1/agents/{agent.id}/tools/approval/no_such_tool", json={"requires_approval": True}
    )
    assert unknown.status_code == 404


def test_the_stream_ends_with_the_request_and_its_stop_reason(client: Letta) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    text = script({"tool": tool.name, "args": {"sides": 3}})
    events = list(
        client.agents.messages.stream(agent.id, messages=[{"role": "user", "content": text}])
    )
    types = [e.message_type for e in events]
    assert types[-3:] == ["approval_request_message", "stop_reason", "usage_statistics"]
    assert events[-2].stop_reason == "requires_approval"


def test_client_side_tools_wait_for_the_client_to_run_them(client: Letta) -> None:
    agent = client.agents.create(name=unique("client-tools"), model=SCRIPTED)
    clipboard = {
        "name": "read_clipboard",
        "description": "What the user copied.",
        "parameters": {"type": "object", "properties": {"lines": {"type": "integer"}}},
    }
    text = script(
        {"tool": "read_clipboard", "args": {"lines": 2}},
        {"tool": "send_message", "args": {"message": "thanks"}},
    )
    response = client.agents.messages.create(
        agent.id, messages=[{"role": "user", "content": text}], client_tools=[clipboard]
    )
    assert response.stop_reason.stop_reason == "requires_approval"
    request = response.messages[-1]
    assert request.message_type == "approval_request_message"
    assert request.tool_call.name == "read_clipboard"
    assert json.loads(request.tool_call.arguments) == {"lines": 2}
    call_id = request.tool_call.tool_call_id
    result = {"type": "tool", "tool_call_id": call_id, "tool_return": "hello", "status": "success"}
    response = client.agents.messages.create(
        agent.id, messages=[{"type": "approval", "approvals": [result]}], client_tools=[clipboard]
    )
    returned = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert [(r.tool_call_id, r.tool_return, r.status) for r in returned] == [
        (call_id, "hello", "success")
    ]
    assert response.messages[-1].content == "thanks"


def test_client_tool_results_may_come_as_a_tool_return_message(http: httpx.Client) -> None:
    agent = http.post("/v1/agents/", json={"name": unique("ct"), "model": SCRIPTED}).json()
    tools = [{"name": "look_outside"}]
    text = script(
        {"tool": "look_outside", "args": {}}, {"tool": "send_message", "args": {"message": "ok"}}
    )
    first = http.post(
        f"/v1/agents/{agent['id']}/messages",
        json={"messages": [{"role": "user", "content": text}], "client_tools": tools},
    ).json()
    call_id = first["messages"][-1]["tool_call"]["tool_call_id"]
    body = {
        "type": "tool_return",
        "tool_returns": [
            {
                "tool_call_id": call_id,
                "tool_return": "raining",
                "status": "error",
                "stderr": ["wet"],
            }
        ],
    }
    second = http.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [body]})
    assert second.status_code == 200, second.text
    returned = [m for m in second.json()["messages"] if m["message_type"] == "tool_return_message"]
    assert (returned[0]["tool_return"], returned[0]["status"], returned[0]["stderr"]) == (
        "raining",
        "error",
        ["wet"],
    )


def test_a_waiting_call_survives_a_restart(fresh_server: ServerProcess) -> None:
    client = Letta(base_url=fresh_server.url)
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    call_id = ask_to_roll(client, agent.id, tool.name).messages[-1].tool_call.tool_call_id
    fresh_server.restart()
    client = Letta(base_url=fresh_server.url)
    assert (
        client.agents.messages.list(agent.id).items[-1].message_type == "approval_request_message"
    )
    # The new process holds no window of the history: the store tells that a call waits.
    with pytest.raises(APIStatusError) as refused:
        client.agents.messages.create(agent.id, input="still there?")
    assert refused.value.status_code == 409
    response = answer(client, agent.id, tool_call_id=call_id, approve=True)
    assert "rolled 6" in [
        m.tool_return for m in response.messages if m.message_type == "tool_return_message"
    ]
    assert response.messages[-1].content == "done"


def test_a_tool_that_asks_for_approval_by_default_brings_its_rule(client: Letta) -> None:
    name = unique("d").replace("-", "_")
    tool = client.tools.upsert(
        source_code=DICE.format(suffix=name[2:]), default_requires_approval=True
    )
    assert tool.default_requires_approval is True
    created = client.agents.create(name=unique("born"), model=SCRIPTED, tool_ids=[tool.id])
    later = client.agents.create(name=unique("attached"), model=SCRIPTED)
    attached = client.agents.tools.attach(tool.id, agent_id=later.id)
    for agent in (created, attached):
        rules = [r.model_dump(exclude_none=True) for r in agent.tool_rules]
        assert rules.count({"type": "requires_approval", "tool_name": tool.name}) == 1
    response = ask_to_roll(client, created.id, tool.name)
    assert response.stop_reason.stop_reason == "requires_approval"
    plain = client.tools.update(tool.id, default_requires_approval=False)
    assert plain.default_requires_approval is False


def test_an_answer_may_run_in_the_background(client: Letta, http: httpx.Client) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    call_id = ask_to_roll(client, agent.id, tool.name).messages[-1].tool_call.tool_call_id
    run = client.agents.messages.create_async(
        agent.id,
        messages=[{"type": "approval", "approvals": [{"tool_call_id": call_id, "approve": True}]}],
    )
    deadline = time.monotonic() + 60
    while client.runs.retrieve(run.id).status not in {"completed", "failed"}:
        assert time.monotonic() < deadline, "the background answer never finished"
        time.sleep(0.2)
    assert client.runs.retrieve(run.id).stop_reason == "end_turn"
    produced = http.get(f"/v1/runs/{run.id}/messages").json()
    assert [m["message_type"] for m in produced][:1] == ["tool_return_message"]
    assert produced[0]["tool_return"] == "rolled 6"


def test_a_cancel_denies_the_waiting_calls_and_frees_the_agent(
    client: Letta, http: httpx.Client
) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    request = ask_to_roll(client, agent.id, tool.name).messages[-1]
    run_id, call_id = request.run_id, request.tool_call.tool_call_id
    assert client.runs.retrieve(run_id).stop_reason == "requires_approval"

    cancelled = http.post(f"/v1/agents/{agent.id}/messages/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {run_id: "cancelled"}
    run = client.runs.retrieve(run_id)
    assert (run.status, run.stop_reason) == ("cancelled", "cancelled")
    history = client.agents.messages.list(agent.id).items
    assert kinds(history)[-3:] == [
        "approval_request_message",
        "approval_response_message",
        "tool_return_message",
    ]
    response_row, returned = history[-2], history[-1]
    assert response_row.approvals[0].tool_call_id == call_id
    assert response_row.approvals[0].approve is False
    assert "cancelled" in (response_row.approvals[0].reason or "")
    assert (returned.tool_call_id, returned.status) == (call_id, "error")
    assert "denied" in returned.tool_return
    # Nothing waits any more: an approval is refused as stale, a new message is taken (the
    # model reads a history where each call has its result).
    approval = {"type": "approval", "approvals": [{"tool_call_id": call_id, "approve": True}]}
    refused = http.post(f"/v1/agents/{agent.id}/messages", json={"messages": [approval]})
    assert refused.status_code == 409
    again = client.agents.messages.create(agent.id, input="still there?")
    assert again.stop_reason.stop_reason == "end_turn"

    # Named by id (the 0.1.x SDK has no cancel): the waiting run is cancelled; named again,
    # it has ended and is refused.
    request = ask_to_roll(client, agent.id, tool.name).messages[-1]
    named = client.agents.messages.cancel(agent.id, run_ids=[request.run_id])
    assert named == {request.run_id: "cancelled"}
    assert client.runs.retrieve(request.run_id).status == "cancelled"
    twice = http.post(f"/v1/agents/{agent.id}/messages/cancel", json={"run_ids": [request.run_id]})
    assert twice.status_code == 409
    assert client.agents.messages.create(agent.id, input="hi").stop_reason.stop_reason == "end_turn"


def test_parallel_calls_wait_together_and_one_message_answers_them(
    client: Letta, http: httpx.Client
) -> None:
    """As Letta: the calls that need approval are one request (`tool_calls`), the step's other
    calls wait with them, and one approval message answers them all (a partial one is refused)."""
    guarded, free = dice_tool(client), dice_tool(client)
    agent = client.agents.create(
        name=unique("hitl"),
        model=SCRIPTED,
        tool_ids=[guarded.id, free.id],
        tool_rules=[{"type": "requires_approval", "tool_name": guarded.name}],
    )
    calls = [
        {"tool": guarded.name, "args": {"sides": 4}},
        {"tool": free.name, "args": {"sides": 8}},
        {"tool": guarded.name, "args": {"sides": 20}},
    ]
    text = script({"parallel": calls}, {"tool": "send_message", "args": {"message": "done"}})
    response = client.agents.messages.create(agent.id, input=text)
    assert response.stop_reason.stop_reason == "requires_approval"
    assert kinds(response.messages)[-2:] == ["tool_call_message", "approval_request_message"]
    request = response.messages[-1]
    assert [json.loads(c.arguments)["sides"] for c in request.tool_calls] == [4, 20]
    assert request.tool_call.tool_call_id == request.tool_calls[0].tool_call_id
    (free_call,) = response.messages[-2].tool_calls
    assert free_call.name == free.name
    first, second = (c.tool_call_id for c in request.tool_calls)
    # The listed history shows the same one request.
    listed = client.agents.messages.list(agent.id).items
    assert [len(m.tool_calls) for m in listed if m.message_type == "approval_request_message"][
        -1:
    ] == [2]

    url = f"/v1/agents/{agent.id}/messages"
    partial = {"type": "approval", "approvals": [{"tool_call_id": first, "approve": True}]}
    refused = http.post(url, json={"messages": [partial]})
    assert refused.status_code == 422
    assert second in refused.json()["detail"]

    answered = answer_all(
        client,
        agent.id,
        {"type": "approval", "tool_call_id": first, "approve": True},
        {"type": "approval", "tool_call_id": second, "approve": False, "reason": "too many"},
    )
    returned = answered.messages[0]
    assert returned.message_type == "tool_return_message"
    outcomes = {r.tool_call_id: (r.status, r.tool_return) for r in returned.tool_returns}
    assert outcomes == {
        free_call.tool_call_id: ("success", "rolled 8"),
        first: ("success", "rolled 4"),
        second: ("error", "Error: request to call tool denied. User reason: too many"),
    }
    assert answered.messages[-1].content == "done"

    # A cancel gives every call of such a step a result, the deferred one's too.
    waiting = client.agents.messages.create(agent.id, input=text).messages
    client.agents.messages.cancel(agent.id)
    returned = client.agents.messages.list(agent.id, limit=3).items[-1]
    assert returned.message_type == "tool_return_message"
    assert {r.tool_call_id: r.status for r in returned.tool_returns} == dict.fromkeys(
        [waiting[-2].tool_calls[0].tool_call_id, *(c.tool_call_id for c in waiting[-1].tool_calls)],
        "error",
    )
    assert client.agents.messages.create(agent.id, input="hi").stop_reason.stop_reason == "end_turn"


def answer_all(client: Letta, agent_id: str, *approvals: dict[str, Any]) -> Any:
    return client.agents.messages.create(
        agent_id, messages=[{"type": "approval", "approvals": list(approvals)}]
    )


def test_a_scheduled_message_waits_for_the_approval_then_runs(client: Letta) -> None:
    tool = dice_tool(client)
    agent = approval_agent(client, tool)
    request = ask_to_roll(client, agent.id, tool.name).messages[-1]
    call_id = request.tool_call.tool_call_id
    at = (time.time() + 0.3) * 1000
    client.agents.schedule.create(
        agent.id,
        messages=[{"role": "user", "content": "morning check"}],
        schedule={"type": "one-time", "scheduled_at": at},
    )

    def scheduled_run() -> Any:
        runs = client.runs.list(agent_ids=[agent.id]).items
        return next((r for r in runs if r.id != request.run_id), None)

    deadline = time.monotonic() + 30
    while not ((run := scheduled_run()) and run.stop_reason == "requires_approval"):
        assert time.monotonic() < deadline, f"the scheduled run never waited: {run}"
        time.sleep(0.1)
    assert run.status == "created"  # waiting, not failed: nothing the schedule sent is lost

    answer(client, agent.id, tool_call_id=call_id, approve=True)
    while (run := client.runs.retrieve(run.id)).status != "completed":
        assert time.monotonic() < deadline + 30, f"the scheduled run never ran: {run}"
        time.sleep(0.1)
    history = client.agents.messages.list(agent.id, limit=100).items
    texts = [m.content for m in history if m.message_type == "user_message"]
    assert texts[-1] == "morning check"


def test_a_scheduled_run_held_by_one_process_runs_once_another_takes_the_approval(
    database_factory: Any, tmp_path: Path
) -> None:
    """Two processes on one PostgreSQL: the scheduled run waits in the process that fired it;
    the approval, answered through the other one, lets it run at once, not when the run
    recovery of created runs finds it (TROUPE_RUN_STALE_AFTER after it was created)."""
    url = database_factory("postgres")
    first = ServerProcess(url, tmp_path).start()
    second = ServerProcess(url, tmp_path).start()
    try:
        one = Letta(base_url=first.url, max_retries=0)
        two = Letta(base_url=second.url, max_retries=0)
        processes = {_owner(url, _run_on(one)): one, _owner(url, _run_on(two)): two}
        tool = dice_tool(one)
        agent = approval_agent(one, tool)
        request = ask_to_roll(one, agent.id, tool.name).messages[-1]
        one.agents.schedule.create(
            agent.id,
            messages=[{"role": "user", "content": "morning check"}],
            schedule={"type": "one-time", "scheduled_at": (time.time() + 0.5) * 1000},
        )
        deadline = time.monotonic() + 30
        while not (
            held := [
                r
                for r in one.runs.list(agent_ids=[agent.id]).items
                if r.id != request.run_id and r.stop_reason == "requires_approval"
            ]
        ):
            assert time.monotonic() < deadline, "the scheduled run never waited"
            time.sleep(0.1)
        holder = processes[_owner(url, held[0].id)]
        elsewhere = two if holder is one else one
        answer(elsewhere, agent.id, tool_call_id=request.tool_call.tool_call_id, approve=True)
        answered = time.monotonic()
        while (run := one.runs.retrieve(held[0].id)).status != "completed":
            assert time.monotonic() - answered < 10, f"the scheduled run did not run: {run}"
            time.sleep(0.1)
    finally:
        first.stop()
        second.stop()


def _run_on(client: Letta) -> str:
    """The id of a run the process behind `client` executed."""
    agent = client.agents.create(name=unique("probe"), model=SCRIPTED)
    return str(client.agents.messages.create(agent.id, input="hi").messages[0].run_id)


def _owner(url: str, run_id: str) -> str:
    async def fetch() -> str:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return str(await conn.fetchval("SELECT owner FROM runs WHERE id = $1", run_id))
        finally:
            await conn.close()

    return asyncio.run(fetch())
