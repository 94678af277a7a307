"""Scheduled messages through letta-client 1.12.1 (`client.agents.schedule`): one-time and
recurring messages fire on time and run like any message; they survive restarts, one missed
while the server was down fires once at start, and two processes on one PostgreSQL fire
each occurrence once. Run callbacks (`callback_url`) are POSTed when the run ends."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import BadRequestError, Letta, NotFoundError

from tests.server.helpers import make_agent
from tests.support.servers import ServerProcess


def _ms(at: datetime) -> float:
    return at.timestamp() * 1000


def _in(seconds: float) -> float:
    return _ms(datetime.now(UTC) + timedelta(seconds=seconds))


def _user_texts(http: httpx.Client, agent_id: str) -> list[str]:
    history = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000}).json()
    return [m["content"] for m in history if m["message_type"] == "user_message"]


def _runs_of(http: httpx.Client, agent_id: str, text: str) -> list[datetime]:
    """When the runs that took `text` as their user message were created, in order."""
    history = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 1000}).json()
    ids = {
        m["run_id"] for m in history if m["message_type"] == "user_message" and m["content"] == text
    }
    return sorted(_parse(r["created_at"]) for r in _runs(http, agent_id) if r["id"] in ids)


def _runs(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    runs = http.get("/v1/runs", params={"agent_id": agent_id, "limit": 1000}).json()
    return sorted(runs, key=lambda r: r["created_at"])


def _eventually(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_one_time_message_fires_at_its_time_and_runs_like_any_message(
    client: Letta, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo")
    at = datetime.now(UTC) + timedelta(seconds=4)  # time to list and read it before it fires
    created = client.agents.schedule.create(
        agent["id"],
        messages=[{"role": "user", "content": "remember the milk"}],
        schedule={"type": "one-time", "scheduled_at": _ms(at)},
    )
    assert created.id.startswith("scheduled_message-")
    assert abs(_parse(created.next_scheduled_at or "") - at) < timedelta(milliseconds=2)

    listed = client.agents.schedule.list(agent["id"])
    assert [s.id for s in listed.scheduled_messages] == [created.id]
    assert listed.has_next_page is False
    fetched = client.agents.schedule.retrieve(created.id, agent_id=agent["id"])
    assert fetched.message.messages[0].content == "remember the milk"
    assert fetched.schedule.type == "one-time"

    assert _eventually(lambda: _user_texts(http, agent["id"]) == ["remember the milk"])
    (run,) = _eventually(lambda: [r for r in _runs(http, agent["id"]) if r["status"] != "running"])
    assert run["status"] == "completed"
    assert _parse(run["created_at"]) >= at, "a scheduled message never fires early"
    history = http.get(f"/v1/agents/{agent['id']}/messages").json()
    assert any(m["message_type"] == "assistant_message" for m in history)
    # Fired: removed, as Letta's one-time messages are "automatically removed after execution".
    assert _eventually(lambda: client.agents.schedule.list(agent["id"]).scheduled_messages == [])
    with pytest.raises(NotFoundError):
        client.agents.schedule.retrieve(created.id, agent_id=agent["id"])


def test_a_recurring_message_fires_on_each_tick_until_deleted(
    client: Letta, http: httpx.Client
) -> None:
    agent = make_agent(http, model="test/echo")
    created = client.agents.schedule.create(
        agent["id"],
        messages=[{"role": "user", "content": "tick"}],
        schedule={"type": "recurring", "cron_expression": "* * * * * */1"},
    )
    assert _eventually(lambda: len(_user_texts(http, agent["id"])) >= 3)
    assert client.agents.schedule.delete(created.id, agent_id=agent["id"]).success is True
    time.sleep(0.5)  # a firing already under way when the delete came may still land
    fired = len(_user_texts(http, agent["id"]))
    time.sleep(2.5)
    assert len(_user_texts(http, agent["id"])) == fired, "a deleted schedule fired again"
    assert client.agents.schedule.list(agent["id"]).scheduled_messages == []


def test_bad_schedules_are_refused_and_nothing_is_scheduled(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo")
    path = f"/v1/agents/{agent['id']}/schedule"
    hello = [{"role": "user", "content": "hello"}]
    bad = [
        {"messages": hello, "schedule": {"type": "recurring", "cron_expression": "every day"}},
        {"messages": hello, "schedule": {"type": "recurring", "cron_expression": "61 * * * *"}},
        {"messages": hello, "schedule": {"scheduled_at": _in(-60)}},
        {"messages": hello, "schedule": {"scheduled_at": time.time() + 60}},  # seconds, not ms
        {"messages": hello, "schedule": {"scheduled_at": 1e300}},
        {"messages": [], "schedule": {"scheduled_at": _in(60)}},
        {"messages": [{"role": "user", "content": "  "}], "schedule": {"scheduled_at": _in(60)}},
        {"messages": hello, "schedule": {"scheduled_at": _in(60)}, "callback_url": "ftp://x"},
        {"messages": hello},
    ]
    for body in bad:
        response = http.post(path, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert "detail" in response.json()
    assert http.get(path).json() == {"has_next_page": False, "scheduled_messages": []}

    ok = {"messages": hello, "schedule": {"scheduled_at": _in(3600)}}
    assert http.post("/v1/agents/agent-nope/schedule", json=ok).status_code == 404
    assert http.get("/v1/agents/agent-nope/schedule").status_code == 404
    assert http.get(f"{path}/scheduled_message-nope").status_code == 404
    assert http.delete(f"{path}/scheduled_message-nope").status_code == 404
    # Another agent's scheduled message is not reachable under this agent.
    other = make_agent(http, model="test/echo")
    theirs = http.post(f"/v1/agents/{other['id']}/schedule", json=ok).json()["id"]
    assert http.get(f"{path}/{theirs}").status_code == 404
    assert http.delete(f"{path}/{theirs}").status_code == 404
    assert http.get(f"/v1/agents/{other['id']}/schedule/{theirs}").status_code == 200


def test_a_time_in_the_past_is_a_400_as_lettas_docs_say(client: Letta, http: httpx.Client) -> None:
    """Letta: "Must be in the future - scheduling in the past returns a 400 error"."""
    agent = make_agent(http, model="test/echo")
    for past in (_in(-60), time.time() * 1000 - 1, (time.time() + 3600)):  # the last: seconds
        with pytest.raises(BadRequestError) as refused:
            client.agents.schedule.create(
                agent["id"],
                messages=[{"role": "user", "content": "too late"}],
                schedule={"type": "one-time", "scheduled_at": past},
            )
        assert "in the past" in str(refused.value)
    assert client.agents.schedule.list(agent["id"]).scheduled_messages == []


def test_schedules_page_oldest_first(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo")
    path = f"/v1/agents/{agent['id']}/schedule"
    body = {"messages": [{"role": "user", "content": "later"}]}
    ids = [
        http.post(path, json={**body, "schedule": {"scheduled_at": _in(3600 + i)}}).json()["id"]
        for i in range(5)
    ]
    first = http.get(path, params={"limit": "2"}).json()
    assert [s["id"] for s in first["scheduled_messages"]] == ids[:2]
    assert first["has_next_page"] is True
    rest = http.get(path, params={"after": ids[1], "limit": "10"}).json()
    assert [s["id"] for s in rest["scheduled_messages"]] == ids[2:]
    assert rest["has_next_page"] is False


class _Receiver:
    """An HTTP endpoint on 127.0.0.1 that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    endpoint = _Receiver()
    yield endpoint
    endpoint.close()


def test_runs_call_back_when_they_end(
    client: Letta, http: httpx.Client, receiver: _Receiver
) -> None:
    agent = make_agent(http, model="test/echo")
    client.agents.schedule.create(
        agent["id"],
        messages=[{"role": "user", "content": "scheduled"}],
        schedule={"type": "one-time", "scheduled_at": _in(0.5)},
        callback_url=receiver.url,
    )
    run = client.agents.messages.create_async(
        agent["id"], messages=[{"role": "user", "content": "async"}], callback_url=receiver.url
    )
    assert _eventually(lambda: len(receiver.bodies) == 2)
    by_run = {body["run_id"]: body for body in receiver.bodies}
    assert run.id in by_run
    for body in by_run.values():
        assert body["job_id"] == body["run_id"]
        assert body["agent_id"] == agent["id"]
        assert body["status"] == "completed"
        assert body["completed_at"]
    stored = _eventually(lambda: (r := client.runs.retrieve(run.id)).callback_status_code and r)
    assert stored.callback_url == receiver.url
    assert stored.callback_status_code == 204
    assert stored.callback_sent_at is not None
    assert stored.callback_error is None


def test_a_failed_runs_callback_says_why_in_its_metadata(
    client: Letta, http: httpx.Client, receiver: _Receiver
) -> None:
    """As Letta's job callback: a failed run's `metadata` holds why, under `error`."""
    agent = make_agent(http, model="test/function:tests.support.models:broken")
    run = client.agents.messages.create_async(
        agent["id"], messages=[{"role": "user", "content": "hello?"}], callback_url=receiver.url
    )
    assert _eventually(lambda: len(receiver.bodies) == 1)
    (body,) = receiver.bodies
    assert body["run_id"] == run.id
    assert body["status"] == "failed"
    assert "the model is down" in body["metadata"]["error"]


def test_an_unreachable_callback_is_recorded_on_the_run(client: Letta, http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo")
    dead = "http://127.0.0.1:9/hook"  # the discard port: nothing listens
    run = client.agents.messages.create_async(
        agent["id"], messages=[{"role": "user", "content": "async"}], callback_url=dead
    )
    stored = _eventually(lambda: (r := client.runs.retrieve(run.id)).callback_error and r)
    assert stored.status == "completed"
    assert stored.callback_sent_at is not None
    assert stored.callback_status_code is None
    assert "ConnectError" in stored.callback_error


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_schedules_survive_a_restart_and_missed_ones_fire_once_at_start(
    backend: str, database_factory: Any, tmp_path: Path
) -> None:
    server = ServerProcess(database_factory(backend), tmp_path).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            agent = make_agent(http, model="test/echo")
            path = f"/v1/agents/{agent['id']}/schedule"
            body = {"messages": [{"role": "user", "content": "once"}]}
            http.post(path, json={**body, "schedule": {"scheduled_at": _in(2)}})
            every_5s = {"type": "recurring", "cron_expression": "* * * * * */5"}
            http.post(path, json={"messages": [{"role": "user", "content": "every"}],
                                  "schedule": every_5s})  # fmt: skip
        server.stop()
        time.sleep(12)  # the one-time message and at least two ticks pass while it is down
        server.start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            listed = http.get(path).json()["scheduled_messages"]
            assert "recurring" in [s["schedule"]["type"] for s in listed]
            texts = _eventually(
                lambda: (t := _user_texts(http, agent["id"])).count("every") >= 2 and t
            )
            every = _runs_of(http, agent["id"], "every")
    finally:
        server.stop()
    assert texts.count("once") == 1, "the missed one-time message fires exactly once"
    assert [s["schedule"]["type"] for s in listed] in (["one-time", "recurring"], ["recurring"])
    # The missed ticks fire once at start, then the schedule goes on at its next tick (which
    # may come a few milliseconds after the catch-up, when the server started just before one).
    catch_up, then = every[0], every[1]
    next_tick = catch_up.replace(microsecond=0) + timedelta(seconds=5 - catch_up.second % 5)
    assert then >= next_tick, "missed ticks were replayed one by one"


def test_two_processes_on_one_postgres_fire_each_occurrence_once(
    database_factory: Any, tmp_path: Path
) -> None:
    url = database_factory("postgres")
    env = {"TROUPE_SCHEDULE_POLL": "0.2"}
    first = ServerProcess(url, tmp_path, env=env).start()
    second = ServerProcess(url, tmp_path, env=env).start()
    try:
        with (
            httpx.Client(base_url=first.url, timeout=60) as one,
            httpx.Client(base_url=second.url, timeout=60) as two,
        ):
            agent = make_agent(one, model="test/echo")
            at = _in(2)
            for i in range(20):  # all due at the same instant, created through both
                http = one if i % 2 else two
                body = {"messages": [{"role": "user", "content": f"<{i:02d}>"}]}
                response = http.post(
                    f"/v1/agents/{agent['id']}/schedule",
                    json={**body, "schedule": {"scheduled_at": at}},
                )
                assert response.status_code == 200, response.text
            texts = _eventually(lambda: len(t := _user_texts(one, agent["id"])) >= 20 and t)
            time.sleep(1.5)  # a second firing would land by now
            texts = _user_texts(one, agent["id"])
    finally:
        first.stop()
        second.stop()
    assert sorted(texts) == [f"<{i:02d}>" for i in range(20)]
