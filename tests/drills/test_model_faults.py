"""Model faults at random during a 200-message multi-agent run, on SQLite and PostgreSQL.

A supervisor and six workers run on a fake OpenAI-compatible server (a real HTTP server on
127.0.0.1) that answers each request from a seeded RNG keyed on the request itself: HTTP
500s, answers later than the client's timeout, garbage tool calls (unknown tools, arguments
that are not JSON or not an object, missing or wrong arguments), and otherwise the agent's
part: async sends, send-and-wait, tag broadcasts and replies. 200 user messages go in
(synchronous, async and streamed, eight at a time). Afterwards: every request was answered,
every run ended with a stop reason (none left created or running), every delivery was done
and is in its target's history exactly once, every user message is in its agent's history
exactly once, and the store passes the integrity check (contiguous histories, every tool
call paired with its return, ...). TROUPE_DRILL_SEED picks another storm."""

import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.drills.helpers import assert_store_intact
from tests.server.helpers import unique
from tests.support.servers import ServerProcess
from troupe.llm.fake_server import FakeLLMServer

SEED = int(os.environ.get("TROUPE_DRILL_SEED", "20261201"))
MESSAGES = 200
WORKERS = 6
HANG_S = 1.5  # the server's model timeout is 1 s
TAG = "drill-worker"
ROLE = re.compile(r"DRILL-ROLE (\w+)")
ASYNC = "send_message_to_agent_async"
ASK = "send_message_to_agent_and_wait_for_reply"
BROADCAST = "send_message_to_agents_matching_all_tags"


class Storm:
    """The fake model's answers: a pure function of (seed, agent, request), so concurrent
    runs draw the same faults for the same requests whatever order they come in."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.ids: dict[str, str] = {}  # role -> agent id, filled once the agents exist

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        found = ROLE.search(messages[0].get("content") or "")
        role = found.group(1) if found else "unknown"
        last = messages[-1]
        key = f"{self.seed}|{role}|{len(messages)}|{json.dumps(last, sort_keys=True)}"
        rng = random.Random(hashlib.sha256(key.encode()).digest())
        roll = rng.random()
        if roll < 0.06:
            return {"status": 500}
        if roll < 0.09:
            return {"hang": HANG_S}
        if roll < 0.16:
            return self._garbage(rng)
        if last["role"] != "user":  # after a tool result: finish the turn
            return _reply("done")
        return self._act(rng, role, last.get("content") or "")

    def _garbage(self, rng: random.Random) -> dict[str, Any]:
        return rng.choice(
            [
                {"tool": "no_such_tool", "arguments": {"x": 1}},
                {"tool": "send_message", "arguments": '{"message": "cut off'},
                {"tool": "send_message", "arguments": "[1, 2, 3]"},
                {"tool": "send_message", "arguments": {"msg": "wrong name"}},
                {"tool": ASYNC, "arguments": {"message": "to nobody"}},
                {"tool": ASYNC, "arguments": {"message": "x", "other_agent_id": "agent-nope"}},
                {"tool": ASK, "arguments": {"message": "", "other_agent_id": "agent-nope"}},
                {"tool": BROADCAST, "arguments": {"message": "hi", "tags": []}},
                {"text": ""},
            ]
        )

    def _act(self, rng: random.Random, role: str, text: str) -> dict[str, Any]:
        note = f"note-{rng.getrandbits(48):012x}"
        workers = [self.ids[f"w{i}"] for i in range(WORKERS)]
        mine = self.ids.get(role)
        if "is waiting: answer with send_message" in text:
            return _reply(f"answer {note}")
        sender = re.search(r"\[Message from agent .*? \((agent-[0-9a-f-]+)\)\]", text)
        roll = rng.random()
        if sender:  # a delivery: answer by mail now and then, else just acknowledge
            if roll < (0.3 if role != "sup" else 0.1):
                return _call(ASYNC, message=note, other_agent_id=sender.group(1))
            return _reply(f"noted {note}")
        others = [w for w in workers if w != mine]
        if role == "sup":
            if roll < 0.35:
                return _call(ASYNC, message=note, other_agent_id=rng.choice(workers))
            if roll < 0.6:
                return _call(ASK, message=note, other_agent_id=rng.choice(workers))
            if roll < 0.75:
                return _call(BROADCAST, message=note, tags=[TAG])
        elif roll < 0.15:
            return _call(ASYNC, message=note, other_agent_id=self.ids["sup"])
        elif roll < 0.25:
            return _call(ASK, message=note, other_agent_id=rng.choice(others))
        return _reply(f"ok {note}")


def _call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"tool": tool, "arguments": arguments}


def _reply(text: str) -> dict[str, Any]:
    return _call("send_message", message=text)


@pytest.fixture(params=["sqlite", "postgres"])
def storm_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, Storm]]:
    storm = Storm(SEED)
    with FakeLLMServer(respond=storm) as fake:
        env = {
            "OPENAI_BASE_URL": fake.openai_base_url,
            "OPENAI_API_KEY": "sk-drill",
            "TROUPE_MODEL_TIMEOUT": "1",
            "TROUPE_MODEL_MAX_RETRIES": "0",
            "TROUPE_REPLY_TIMEOUT": "5",
        }
        server = ServerProcess(
            database_factory(request.param), tmp_path_factory.mktemp("storm"), env=env
        )
        server.start()
        try:
            yield server, storm
        finally:
            server.stop()


def _make_agents(http: httpx.Client, storm: Storm) -> None:
    roles = ["sup", *(f"w{i}" for i in range(WORKERS))]
    for role in roles:
        response = http.post(
            "/v1/agents/",
            json={
                "name": unique(role),
                "model": "openai/fake",
                "memory_blocks": [{"label": "persona", "value": f"DRILL-ROLE {role}"}],
                "tags": [TAG] if role != "sup" else ["drill-sup"],
                "include_multi_agent_tools": True,
            },
        )
        assert response.status_code == 200, response.text
        storm.ids[role] = response.json()["id"]


def _send(http: httpx.Client, agent_id: str, text: str, mode: str) -> tuple[int, str]:
    body = {"messages": [{"role": "user", "content": text}], "max_steps": 8}
    if mode == "stream":
        with http.stream("POST", f"/v1/agents/{agent_id}/messages/stream", json=body) as r:
            events = [line for line in r.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]", events[-3:]
        return r.status_code, json.loads(events[-3][len("data: ") :])["stop_reason"]
    suffix = "/async" if mode == "async" else ""
    response = http.post(f"/v1/agents/{agent_id}/messages{suffix}", json=body)
    if response.status_code != 200:
        return response.status_code, response.text
    answer = response.json()
    return 200, answer["status"] if mode == "async" else answer["stop_reason"]["stop_reason"]


def test_random_model_faults_lose_nothing_and_leave_every_run_finished(
    storm_server: tuple[ServerProcess, Storm],
) -> None:
    server, storm = storm_server
    with httpx.Client(base_url=server.url, timeout=120) as http:
        _make_agents(http, storm)
        rng = random.Random(SEED)
        plan = []
        for i in range(MESSAGES):
            role = "sup" if rng.random() < 0.4 else f"w{rng.randrange(WORKERS)}"
            mode = rng.choices(["sync", "async", "stream"], weights=[6, 3, 1])[0]
            plan.append((storm.ids[role], f"task {i:03d} for {role}", mode))
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda p: _send(http, *p), plan))
        statuses = Counter(status for status, _ in answers)
        assert statuses == {200: MESSAGES}, [a for a in answers if a[0] != 200][:5]
        outcomes = Counter(outcome for _, outcome in answers)
        assert set(outcomes) <= {
            "end_turn", "error", "llm_api_error", "max_steps", "created", "running"
        }  # fmt: skip

        assert_store_intact(server.database_url, settle_s=120)

        runs = http.get("/v1/runs/", params={"limit": 10_000}).json()
        histories = {
            agent_id: http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 10_000}).json()
            for agent_id in storm.ids.values()
        }
    errors = " ".join(r["error"] or "" for r in runs if r["status"] == "failed")
    tool_errors = [
        m for h in histories.values() for m in h
        if m["message_type"] == "tool_return_message" and m["status"] == "error"
    ]  # fmt: skip
    assert "HTTP 500" in errors, "500s struck"
    assert "no answer within 1 s" in errors, "timeouts struck"
    unreached = [
        r
        for r in runs
        if "HTTP 500" in (r["error"] or "") or "no answer within" in (r["error"] or "")
    ]
    assert {r["stop_reason"] for r in unreached} == {"llm_api_error"}, "Letta's reason for them"
    assert len(tool_errors) >= 10, "garbage tool calls struck"
    assert all(r["stop_reason"] for r in runs if r["status"] in {"completed", "failed"})

    said = Counter(
        (agent_id, m["content"])
        for agent_id, history in histories.items()
        for m in history
        if m["message_type"] == "user_message"
    )
    for agent_id, text, _ in plan:
        assert said[(agent_id, text)] == 1, (agent_id, text)
    _assert_every_delivery_arrived_once(server, histories)


def _assert_every_delivery_arrived_once(
    server: ServerProcess, histories: dict[str, list[dict[str, Any]]]
) -> None:
    """Every async note sent is in its target's history as often as it was sent: once."""
    sent: Counter[tuple[str, str]] = Counter()
    for history in histories.values():
        for m in history:
            if m["message_type"] == "tool_call_message" and m["tool_call"]["name"] == ASYNC:
                returned = next(
                    (
                        r for r in history
                        if r["message_type"] == "tool_return_message"
                        and r["tool_call_id"] == m["tool_call"]["tool_call_id"]
                    ),
                    None,
                )  # fmt: skip
                if returned is not None and returned["status"] == "success":
                    arguments = json.loads(m["tool_call"]["arguments"])
                    sent[(arguments["other_agent_id"], arguments["message"])] += 1
    assert sum(sent.values()) >= 10, "the storm sent mail"
    for (target, note), count in sent.items():
        arrived = sum(
            1
            for m in histories[target]
            if m["message_type"] == "system_message" and f"] {note}\n" in m["content"]
        )
        assert arrived == count, (target, note, arrived, count)
