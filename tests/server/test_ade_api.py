"""The API routes the ADE reads beyond Letta's (`GET /v1/activity`, `GET /v1/traces`), and the
ADE's own pages being served, on both backends."""

import time

import httpx

from tests.server.helpers import make_agent, send, unique
from tests.support.servers import ServerProcess

BROKEN = "test/function:tests.support.models:broken"
WORKER = "test/function:tests.support.models:worker"
DELEGATOR = "test/function:tests.support.models:delegator"


def test_activity_tells_when_each_agent_last_had_a_message(http: httpx.Client) -> None:
    quiet = make_agent(http)
    first = make_agent(http)
    second = make_agent(http)
    send(http, first["id"], "hello")
    time.sleep(0.01)  # distinct timestamps for the ordering below
    send(http, second["id"], "hello")
    ids = [quiet["id"], first["id"], second["id"]]
    response = http.get("/v1/activity", params={"agent_id": ids})
    assert response.status_code == 200
    activity = response.json()
    assert [a["agent_id"] for a in activity] == [second["id"], first["id"]]  # newest first
    history = http.get(f"/v1/agents/{second['id']}/messages").json()
    assert activity[0]["last_activity_at"][:19] == history[-1]["date"][:19]
    everyone = {a["agent_id"] for a in http.get("/v1/activity").json()}
    assert {first["id"], second["id"]} <= everyone
    assert quiet["id"] not in everyone


def test_traces_are_listed_newest_first_with_their_agents_and_status(http: httpx.Client) -> None:
    team = unique("team")
    supervisor = make_agent(
        http, model=DELEGATOR, tags=[team], tools=["send_message_to_agents_matching_all_tags"]
    )
    workers = [make_agent(http, model=WORKER, tags=[team, "worker"]) for _ in range(2)]
    send(http, supervisor["id"], f"Ask {team}, worker: go")
    flaky = make_agent(http, model=BROKEN)
    failed = http.post(f"/v1/agents/{flaky['id']}/messages", json={"input": "hi"}).json()
    failed_trace = http.get(f"/v1/runs/{failed['run_id']}").json()["trace_id"]  # no messages

    mine = http.get("/v1/traces", params={"agent_id": workers[0]["id"]}).json()
    assert len(mine) == 1
    trace = mine[0]
    assert trace["root_agent_id"] == supervisor["id"]
    assert trace["root_agent_name"] == supervisor["name"]
    assert next(a["id"] for a in trace["agents"]) == supervisor["id"]
    assert {a["id"] for a in trace["agents"]} == {supervisor["id"], *(w["id"] for w in workers)}
    assert trace["run_count"] == 3
    assert trace["status"] == "completed"
    assert trace["duration_ms"] is not None
    assert trace["completed_at"] >= trace["started_at"]
    detail = http.get(f"/v1/traces/{trace['trace_id']}").json()
    assert "[Message from" not in detail["mermaid"]  # the diagram shows what was sent
    assert "->>a2: go\n" in detail["mermaid"]
    assert "Report on: go" in detail["mermaid"]

    recent = http.get("/v1/traces", params={"limit": 2}).json()
    assert [t["trace_id"] for t in recent] == [failed_trace, trace["trace_id"]]
    assert recent[0]["status"] == "failed"
    assert recent[0]["completed_at"] is not None
    assert http.get("/v1/traces", params={"agent_id": "agent-unknown"}).json() == []


def test_trace_and_activity_lists_refuse_bad_parameters(http: httpx.Client) -> None:
    assert http.get("/v1/traces", params={"limit": 0}).status_code == 422
    assert http.get("/v1/traces", params={"limit": "many"}).status_code == 422
    assert http.get("/v1/activity", params={"agent_id": ["x"] * 1001}).status_code == 422


def test_the_ade_is_served_with_its_assets_and_kept_out_of_the_api_document(
    server: ServerProcess,
) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="ade/js/main.js"' in page.text
    for asset, kind in [
        ("ade/js/main.js", "javascript"),
        ("ade/app.css", "text/css"),
        ("ade/vendor/mermaid.min.js", "javascript"),
    ]:
        response = httpx.get(f"{server.url}/{asset}")
        assert response.status_code == 200, asset
        assert kind in response.headers["content-type"], asset
    assert httpx.get(f"{server.url}/ade/js/nothing.js").status_code == 404
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert all(path.startswith("/v1/") for path in paths)
    assert "/v1/activity" in paths
    assert "/v1/traces" in paths
