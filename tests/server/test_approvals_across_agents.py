"""A worker that waits for a human's approval does not hang the agent that asked it: the
send-and-wait or broadcast result says which agent waits for whom, at once."""

import ast
import time
from typing import Any

import httpx

from tests.server.helpers import make_agent, of_type, script, send, unique

ASK = "send_message_to_agent_and_wait_for_reply"
BROADCAST = "send_message_to_agents_matching_all_tags"
GUARDED = '''def launch_{suffix}(target: str) -> str:
    """Launch something that needs a human's go-ahead.

    Args:
        target: What to launch.
    """
    return "launched " + target
'''


def guarded_worker(http: httpx.Client, **fields: Any) -> tuple[dict[str, Any], str]:
    suffix = unique("x").replace("-", "_")
    tool = http.put("/v1/tools/", json={"source_code": GUARDED.format(suffix=suffix)}).json()
    rules = [{"type": "requires_approval", "tool_name": tool["name"]}]
    return make_agent(http, tool_ids=[tool["id"]], tool_rules=rules, **fields), tool["name"]


def launch_script(tool_name: str) -> str:
    return script(
        {"tool": tool_name, "args": {"target": "rocket"}},
        {"tool": "send_message", "args": {"message": "launched"}},
    )


def test_send_and_wait_says_the_worker_waits_for_a_human(http: httpx.Client) -> None:
    worker, tool_name = guarded_worker(http)
    boss = make_agent(http, name=unique("boss"), tools=[ASK])
    result = send(
        http,
        boss["id"],
        script(
            {
                "tool": ASK,
                "args": {"message": launch_script(tool_name), "other_agent_id": worker["id"]},
            },
            {"tool": "send_message", "args": {"message": "asked"}},
        ),
    )
    answer = of_type(result, "tool_return_message")[0]
    assert answer["status"] == "error"
    entry = ast.literal_eval(answer["tool_return"])  # Letta's {'agent_id', 'error'}
    assert entry["agent_id"] == worker["id"]
    text = entry["error"]
    assert text.startswith(f"{worker['name']} ({worker['id']}) is waiting for a human to approve")
    assert tool_name in text
    assert f"{boss['name']} is not kept waiting" in text
    assert result["stop_reason"]["stop_reason"] == "end_turn"  # the boss went on
    # The worker's call really waits, and a second ask is told so without starting a turn.
    waiting = http.get(f"/v1/agents/{worker['id']}/messages").json()[-1]
    assert waiting["message_type"] == "approval_request_message"
    again = send(
        http,
        boss["id"],
        script({"tool": ASK, "args": {"message": "still there?", "other_agent_id": worker["id"]}}),
    )
    assert (
        "is waiting for a human to approve"
        in of_type(again, "tool_return_message")[0]["tool_return"]
    )
    # Once a human approves, the worker finishes its own turn.
    call_id = waiting["tool_call"]["tool_call_id"]
    approval = {"type": "approval", "approvals": [{"tool_call_id": call_id, "approve": True}]}
    done = http.post(f"/v1/agents/{worker['id']}/messages", json={"messages": [approval]}).json()
    assert "launched rocket" in [m["tool_return"] for m in of_type(done, "tool_return_message")]


def test_a_broadcast_names_the_worker_that_waits_and_keeps_the_others(http: httpx.Client) -> None:
    team = unique("team")
    guarded, tool_name = guarded_worker(http, tags=[team])
    plain = make_agent(http, tags=[team])
    boss = make_agent(http, tools=[BROADCAST])
    result = send(
        http,
        boss["id"],
        script(
            {"tool": BROADCAST, "args": {"message": launch_script(tool_name), "tags": [team]}},
            {"tool": "send_message", "args": {"message": "summary"}},
        ),
    )
    entries = {
        e["agent_id"]: e
        for e in ast.literal_eval(of_type(result, "tool_return_message")[0]["tool_return"])
    }
    assert "is waiting for a human to approve" in entries[guarded["id"]]["error"]
    assert tool_name in entries[guarded["id"]]["error"]
    # The plain worker has no such tool: its script's call fails, and it still answers.
    assert "response" in entries[plain["id"]]


def test_a_message_queued_for_a_waiting_worker_is_delivered_after_the_answer(
    http: httpx.Client,
) -> None:
    worker, tool_name = guarded_worker(http)
    send(http, worker["id"], launch_script(tool_name))
    waiting = http.get(f"/v1/agents/{worker['id']}/messages").json()[-1]
    boss = make_agent(http, tools=["send_message_to_agent_async"])
    note = unique("note")
    send(
        http,
        boss["id"],
        script(
            {
                "tool": "send_message_to_agent_async",
                "args": {"message": note, "other_agent_id": worker["id"]},
            }
        ),
    )
    time.sleep(2)  # the mailbox has tried it by now: it must not have broken in
    history = http.get(f"/v1/agents/{worker['id']}/messages").json()
    assert history[-1]["message_type"] == "approval_request_message"
    call_id = waiting["tool_call"]["tool_call_id"]
    approval = {"type": "approval", "approvals": [{"tool_call_id": call_id, "approve": False}]}
    assert (
        http.post(f"/v1/agents/{worker['id']}/messages", json={"messages": [approval]}).status_code
        == 200
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        history = http.get(f"/v1/agents/{worker['id']}/messages", params={"limit": 100}).json()
        if any(note in (m.get("content") or "") for m in history):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the queued message never reached the worker")
