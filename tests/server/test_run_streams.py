"""Background runs and resumable streams: a streamed run goes on when its client leaves, and
its events are read back from the store (after a `seq_id`, then live) by either SDK line,
from another process on PostgreSQL, and after a restart."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, script, two_processes
from tests.server.test_cancel import WAIT_S, run, wait_for
from tests.support.servers import ServerProcess

STEPS = 6  # memory appends before the reply: a run of seven steps


def long_script() -> str:
    appends = [
        {"tool": "core_memory_append", "args": {"label": "human", "content": f"note {i}"}}
        for i in range(STEPS)
    ]
    return script(*appends, {"tool": "send_message", "args": {"message": "finished"}})


def slow_agent(http: httpx.Client, latency_ms: int = 150) -> dict[str, Any]:
    return make_agent(
        http,
        model=f"test/scripted@{latency_ms}ms",
        memory_blocks=[{"label": "human", "value": "notes:"}],
    )


def events_of(response: httpx.Response, at_most: int | None = None) -> list[dict[str, Any]]:
    """The JSON events of an SSE response, stopping after `at_most` of them (the client then
    drops the connection)."""
    assert response.status_code == 200, response.read()
    events: list[dict[str, Any]] = []
    for line in response.iter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        events.append(json.loads(line.removeprefix("data: ")))
        if at_most is not None and len(events) == at_most:
            break
    return events


def start_background(http: httpx.Client, agent_id: str, at_most: int) -> list[dict[str, Any]]:
    body = {"messages": [{"role": "user", "content": long_script()}], "background": True}
    with http.stream("POST", f"/v1/agents/{agent_id}/messages/stream", json=body) as response:
        return events_of(response, at_most)


def resume(http: httpx.Client, run_id: str, after: int, at_most: int | None = None) -> list[Any]:
    body = {"starting_after": after}
    with http.stream("POST", f"/v1/runs/{run_id}/stream", json=body) as response:
        return events_of(response, at_most)


def test_a_client_reconnecting_three_times_gets_every_event_once_in_order(
    http: httpx.Client,
) -> None:
    agent = slow_agent(http)
    seen = start_background(http, agent["id"], at_most=2)
    run_id = seen[0]["run_id"]
    for _ in range(3):  # leave, come back where we were
        seen += resume(http, run_id, seen[-1]["seq_id"], at_most=3)
    seen += resume(http, run_id, seen[-1]["seq_id"])
    stored = http.get(f"/v1/runs/{run_id}/messages", params={"limit": 1000}).json()
    messages = [e for e in seen if e["message_type"] not in {"stop_reason", "usage_statistics"}]
    assert [m["id"] for m in messages] == [m["id"] for m in stored]
    assert [e["message_type"] for e in seen[-2:]] == ["stop_reason", "usage_statistics"]
    assert seen[-2]["stop_reason"] == "end_turn"
    seq_ids = [e["seq_id"] for e in seen]
    assert seq_ids == sorted(set(seq_ids))  # every one once, in order
    assert {e["run_id"] for e in seen} == {run_id}
    assert run(http, run_id)["status"] == "completed"


def test_the_run_goes_on_after_its_client_leaves(http: httpx.Client) -> None:
    agent = slow_agent(http)
    first = start_background(http, agent["id"], at_most=1)
    finished = wait_for(
        lambda: run(http, first[0]["run_id"])["status"] == "completed", "the run to complete"
    )
    assert finished
    block = http.get(f"/v1/agents/{agent['id']}/core-memory/blocks/human").json()
    assert all(f"note {i}" in block["value"] for i in range(STEPS))


def test_the_current_sdk_streams_in_background_and_resumes(http: httpx.Client, client: Any) -> None:
    agent = slow_agent(http, latency_ms=50)
    stream = client.agents.messages.stream(
        agent_id=agent["id"],
        messages=[{"role": "user", "content": long_script()}],
        background=True,
    )
    first = next(iter(stream))
    stream.close()
    run_id, after = first.run_id, first.seq_id
    rest = list(client.runs.messages.stream(run_id, starting_after=after))
    assert rest[0].seq_id > after
    assert [getattr(e, "message_type", None) for e in rest[-2:]] == [
        "stop_reason",
        "usage_statistics",
    ]
    replay = list(client.runs.messages.stream(run_id, starting_after=0))
    assert [e.seq_id for e in replay] == [first.seq_id] + [e.seq_id for e in rest]


def test_pings_keep_a_quiet_stream_alive(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo@6000ms")
    body = {
        "messages": [{"role": "user", "content": "slow"}],
        "background": True,
        "include_pings": True,
    }
    with http.stream("POST", f"/v1/agents/{agent['id']}/messages/stream", json=body) as response:
        kinds = [e["message_type"] for e in events_of(response)]
    assert "ping" in kinds
    assert kinds[-3:] == ["assistant_message", "stop_reason", "usage_statistics"]


def test_a_stream_of_an_unknown_run_or_a_bad_cursor_is_refused(http: httpx.Client) -> None:
    assert http.post("/v1/runs/run-nope/stream", json={}).status_code == 404
    agent = make_agent(http)
    done = http.post(
        f"/v1/agents/{agent['id']}/messages",
        json={"messages": [{"role": "user", "content": "hi"}]},
    ).json()
    bad = http.post(f"/v1/runs/{done['run_id']}/stream", json={"starting_after": -1})
    assert bad.status_code == 422
    # An ended run's stream is its stored events, then the end.
    kinds = [e["message_type"] for e in resume(http, done["run_id"], 0)]
    assert "user_message" not in kinds  # what the agent produced, as a live stream
    assert kinds[-3:] == ["assistant_message", "stop_reason", "usage_statistics"]


def test_another_process_follows_a_run_live(database_factory: Any, tmp_path: Path) -> None:
    with two_processes(database_factory("postgres"), tmp_path) as (first, second):
        agent = slow_agent(first, latency_ms=300)
        (opening,) = start_background(first, agent["id"], at_most=1)
        rest = resume(second, opening["run_id"], opening["seq_id"])
        assert rest[-2]["stop_reason"] == "end_turn"
        stored = first.get(f"/v1/runs/{opening['run_id']}/messages").json()
        assert [opening["id"]] + [e["id"] for e in rest[:-2]] == [m["id"] for m in stored]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_stored_stream_is_replayed_after_a_restart(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    server = ServerProcess(database_factory(backend), tmp_path).start()
    try:
        with httpx.Client(base_url=server.url, timeout=WAIT_S) as http:
            agent = slow_agent(http, latency_ms=10)
            (opening,) = start_background(http, agent["id"], at_most=1)
            run_id = opening["run_id"]
            wait_for(lambda: run(http, run_id)["status"] == "completed", "the run to end")
            before = resume(http, run_id, 0)
        server.stop()
        server.start()
        with httpx.Client(base_url=server.url, timeout=WAIT_S) as http:
            assert resume(http, run_id, 0) == before
            assert resume(http, run_id, before[2]["seq_id"]) == before[3:]
    finally:
        server.stop()
