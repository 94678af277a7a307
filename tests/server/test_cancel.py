"""Cancelling runs: through both SDK lines, on a model that would take far longer than the
test, a running user tool, a send-and-wait chain, and across two processes on PostgreSQL."""

import concurrent.futures
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.server.helpers import make_agent, script, send, two_processes, unique, wait_for
from tests.support.servers import ServerProcess

SLOW = "test/echo@60000ms"  # a model call no test waits for: a cancel must abandon it
ANNOUNCED = "test/function:tests.support.models:announced"  # SLOW, telling when it is called
WAIT_S = 30.0

SLEEPER = '''
import time

def sleep_long() -> str:
    """Sleep for a minute, then answer."""
    time.sleep(60)
    return "woke up"
'''


def start_async(http: httpx.Client, agent_id: str, text: str) -> str:
    response = http.post(
        f"/v1/agents/{agent_id}/messages/async",
        json={"messages": [{"role": "user", "content": text}]},
    )
    assert response.status_code == 200, response.text
    run_id: str = response.json()["id"]
    wait_for(lambda: run(http, run_id)["status"] == "running", "the run to start")
    return run_id


def start_under_way(http: httpx.Client, tmp_path: Path, text: str) -> tuple[str, str]:
    """(agent id, run id) of a background run whose model call has begun: a run cancelled
    before its turn began stores nothing, so tests of what a cancel keeps start here."""
    agent = make_agent(http, model=ANNOUNCED)
    marker = tmp_path / "model-called"
    run_id = start_async(http, agent["id"], f"{text} marker:{marker}")
    wait_for(marker.exists, "the model call to begin")
    return agent["id"], run_id


def run(http: httpx.Client, run_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def run_messages(http: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """The run's stored messages, its input included: read from the agent's history, since
    /v1/runs/{id}/messages shows only what the run produced, as Letta's does."""
    agent_id = run(http, run_id)["agent_id"]
    response = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [m for m in response.json() if m.get("run_id") == run_id]


def test_cancel_abandons_a_model_call_and_keeps_the_input(
    http: httpx.Client, client: Any, tmp_path: Path
) -> None:
    agent_id, run_id = start_under_way(http, tmp_path, "take your time")
    answer = client.agents.messages.cancel(agent_id, run_ids=[run_id])
    assert answer == {run_id: "cancelled"}
    ended = run(http, run_id)
    assert (ended["status"], ended["stop_reason"]) == ("cancelled", "cancelled")
    # The turn stopped: the input is stored, the model's answer never will be.
    messages = wait_for(lambda: run_messages(http, run_id), "the input to be kept")
    assert [m["message_type"] for m in messages] == ["user_message"]
    assert client.runs.list(agent_ids=[agent_id], active=True).items == []


def test_a_reply_arriving_after_the_cancel_is_dropped(
    http: httpx.Client, client: Any, tmp_path: Path
) -> None:
    agent_id, run_id = start_under_way(http, tmp_path, "late answer answer-after:1.5")
    client.agents.messages.cancel(agent_id, run_ids=[run_id])
    time.sleep(3)  # past the moment the model would have answered
    assert run(http, run_id)["status"] == "cancelled"
    assert [m["message_type"] for m in run_messages(http, run_id)] == ["user_message"]
    history = http.get(f"/v1/agents/{agent_id}/messages").json()
    assert not [m for m in history if m["message_type"] == "assistant_message"]


def test_a_synchronous_request_ends_with_stop_reason_cancelled(
    http: httpx.Client, server: ServerProcess, tmp_path: Path
) -> None:
    # The cancel comes once the model call has begun (a run cancelled before its turn began
    # stores nothing: see test_a_queued_run_cancelled_before_it_starts_never_runs).
    agent = make_agent(http, model=ANNOUNCED)
    marker = tmp_path / "model-called"
    with (
        concurrent.futures.ThreadPoolExecutor(1) as pool,
        httpx.Client(base_url=server.url, timeout=WAIT_S) as other,
    ):
        pending = pool.submit(send, other, agent["id"], f"wait for me marker:{marker}")
        wait_for(marker.exists, "the model call to begin")
        active = http.get("/v1/runs/active", params={"agent_id": agent["id"]}).json()
        cancelled = http.post(f"/v1/agents/{agent['id']}/messages/cancel", json={})
        result = pending.result(timeout=WAIT_S)
    assert cancelled.json() == {active[0]["id"]: "cancelled"}
    assert result["stop_reason"]["stop_reason"] == "cancelled"
    assert result["messages"] == []  # the model never answered; the input is not echoed
    kept = wait_for(lambda: run_messages(http, active[0]["id"]), "the input to be kept")
    assert [m["message_type"] for m in kept] == ["user_message"]


def test_finished_steps_stay_and_a_running_user_tool_is_stopped(
    http: httpx.Client, server: ServerProcess
) -> None:
    assert http.put("/v1/tools/", json={"source_code": SLEEPER}).status_code == 200
    agent = make_agent(
        http, tools=["sleep_long"], memory_blocks=[{"label": "human", "value": "notes:"}]
    )
    run_id = start_async(
        http,
        agent["id"],
        script(
            {"tool": "core_memory_append", "args": {"label": "human", "content": "kept"}},
            {"tool": "sleep_long", "args": {}},
            {"tool": "send_message", "args": {"message": "never"}},
        ),
    )
    wait_for(lambda: tool_processes(server), "the tool's process")
    response = http.post(f"/v1/agents/{agent['id']}/messages/cancel", json={"run_ids": [run_id]})
    assert response.json() == {run_id: "cancelled"}
    wait_for(lambda: not tool_processes(server), "the tool's process to be killed")
    assert run(http, run_id)["stop_reason"] == "cancelled"
    kinds = [m["message_type"] for m in run_messages(http, run_id)]
    # The first step (the memory edit) is stored; the step of the sleeping tool never was.
    assert kinds.count("tool_return_message") == 1
    assert "assistant_message" not in kinds
    block = http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert "kept" in block["value"]


def tool_processes(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    children = psutil.Process(server.process.pid).children(recursive=True)
    return [p for p in children if "sandbox_child" in " ".join(_cmdline(p))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # it ended meanwhile
        return []


def test_cancelling_a_waiting_agent_cancels_the_run_it_waits_on(http: httpx.Client) -> None:
    answerer = make_agent(http, model=SLOW)
    asker = make_agent(http, tools=["send_message_to_agent_and_wait_for_reply"])
    run_id = start_async(
        http,
        asker["id"],
        script(
            {
                "tool": "send_message_to_agent_and_wait_for_reply",
                "args": {"message": "slowly", "other_agent_id": answerer["id"]},
            },
            {"tool": "send_message", "args": {"message": "never"}},
        ),
    )
    child = wait_for(
        lambda: http.get("/v1/runs/active", params={"agent_id": answerer["id"]}).json(),
        "the waited-on run",
    )[0]
    assert child["parent_run_id"] == run_id
    answer = http.post(f"/v1/agents/{asker['id']}/messages/cancel", json={"run_ids": [run_id]})
    assert answer.json() == {run_id: "cancelled", child["id"]: "cancelled"}
    assert run(http, child["id"])["stop_reason"] == "cancelled"
    assert run(http, child["id"])["trace_id"] == run(http, run_id)["trace_id"]


def test_cancelling_a_supervisor_cancels_its_broadcast_targets(http: httpx.Client) -> None:
    team = unique("team")
    workers = [make_agent(http, model=SLOW, tags=[team, "worker"]) for _ in range(2)]
    supervisor = make_agent(http, tools=["send_message_to_agents_matching_all_tags"])
    run_id = start_async(
        http,
        supervisor["id"],
        script(
            {
                "tool": "send_message_to_agents_matching_all_tags",
                "args": {"message": "report", "tags": [team, "worker"]},
            },
            {"tool": "send_message", "args": {"message": "never"}},
        ),
    )
    targets = [
        wait_for(
            lambda w=worker: http.get("/v1/runs/active", params={"agent_id": w["id"]}).json(),
            "a worker's run",
        )[0]["id"]
        for worker in workers
    ]
    answer = http.post(f"/v1/agents/{supervisor['id']}/messages/cancel", json={})
    assert answer.json() == dict.fromkeys([run_id, *targets], "cancelled")
    for target in targets:
        assert run(http, target)["stop_reason"] == "cancelled"
        assert run(http, target)["parent_run_id"] == run_id


def test_cancel_of_an_ended_or_unknown_run_is_refused_and_changes_nothing(
    http: httpx.Client,
) -> None:
    agent = make_agent(http)
    other = make_agent(http)
    done = send(http, agent["id"], script({"tool": "send_message", "args": {"message": "hi"}}))
    url = f"/v1/agents/{agent['id']}/messages/cancel"
    ended = http.post(url, json={"run_ids": [done["run_id"]]})
    assert ended.status_code == 409
    assert "already ended" in ended.json()["detail"]
    assert run(http, done["run_id"])["status"] == "completed"
    assert http.post(url, json={"run_ids": ["run-nope"]}).status_code == 404
    foreign = http.post(
        f"/v1/agents/{other['id']}/messages/cancel", json={"run_ids": [done["run_id"]]}
    )
    assert foreign.status_code == 404
    assert http.post("/v1/agents/agent-nope/messages/cancel", json={}).status_code == 404
    assert http.post(url, json={"run_ids": "run-x"}).status_code == 422
    nothing = http.post(url, json={})  # nothing going: a conflict, as Letta answers
    assert nothing.status_code == 409, nothing.text
    assert "no run in progress" in nothing.json()["detail"]
    assert run(http, done["run_id"])["status"] == "completed"


def test_legacy_sdk_lists_active_runs_and_delete_cancels_or_deletes(
    http: httpx.Client, legacy_client: Any
) -> None:
    agent = make_agent(http, model=SLOW)
    run_id = start_async(http, agent["id"], "slow")
    assert run_id in [r.id for r in legacy_client.runs.list_active_runs()]
    cancelled = legacy_client.runs.delete_run(run_id)
    assert (cancelled.id, cancelled.status) == (run_id, "cancelled")
    assert run_id not in [r.id for r in legacy_client.runs.list_active_runs()]
    deleted = legacy_client.runs.delete_run(run_id)  # an ended run: its record goes
    assert deleted.id == run_id
    assert http.get(f"/v1/runs/{run_id}").status_code == 404
    assert http.delete("/v1/runs/run-nope").status_code == 404


def test_a_queued_run_cancelled_before_it_starts_never_runs(http: httpx.Client) -> None:
    agent = make_agent(http, model=SLOW)
    first = start_async(http, agent["id"], "first")
    second = http.post(
        f"/v1/agents/{agent['id']}/messages/async",
        json={"messages": [{"role": "user", "content": "second"}]},
    ).json()["id"]
    answer = http.post(f"/v1/agents/{agent['id']}/messages/cancel", json={})
    assert answer.json() == {first: "cancelled", second: "cancelled"}
    time.sleep(1)
    assert run(http, second)["status"] == "cancelled"
    assert run_messages(http, second) == []


def test_a_cancel_reaches_a_run_in_another_process(database_factory: Any, tmp_path: Path) -> None:
    with (
        two_processes(database_factory("postgres"), tmp_path) as (first, second),
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        agent = make_agent(first, model=SLOW)
        pending = pool.submit(send, first, agent["id"], "wait in process one")
        active = wait_for(
            lambda: second.get("/v1/runs/active", params={"agent_id": agent["id"]}).json(),
            "the run to be active",
        )
        answer = second.post(f"/v1/agents/{agent['id']}/messages/cancel", json={})
        assert answer.json() == {active[0]["id"]: "cancelled"}
        # The first process stopped its turn: its caller's answer says so.
        result = pending.result(timeout=WAIT_S)
        assert result["stop_reason"]["stop_reason"] == "cancelled"
