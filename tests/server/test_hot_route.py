"""POST /v1/agents/{agent_id}/messages is served past FastAPI's stack (server/hot_route.py):
every other way into that route, and its errors, answer as they did through FastAPI."""

import httpx

from tests.observability.test_metrics import scrape, value
from tests.server.helpers import make_agent

ROUTE = "/v1/agents/{agent_id}/messages"


def test_the_messages_route_answers_every_way_as_through_fastapi(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo")
    url = f"/v1/agents/{agent['id']}/messages"
    body = b'{"messages": [{"role": "user", "content": "hi"}]}'
    before = scrape(http)

    ordinary = http.post(url, content=body, headers={"content-type": "application/json"})
    assert ordinary.status_code == 200, ordinary.text
    assert [m["content"] for m in ordinary.json()["messages"]] == ["echo: hi"]
    assert ordinary.headers["x-troupe-run-id"] == ordinary.json()["run_id"]
    # A trailing slash, and a content type FastAPI reads but the short way does not take.
    slashed = http.post(url + "/", content=body, headers={"content-type": "application/json"})
    assert slashed.status_code == 200, slashed.text
    charset = {"content-type": "application/json; charset=utf-8"}
    assert http.post(url, content=body, headers=charset).json()["messages"][0]["content"] == (
        "echo: hi"
    )

    # The endpoint's own errors, through the application's handlers.
    missing = http.post("/v1/agents/agent-missing/messages", content=body, headers=charset)
    assert missing.status_code == 404
    assert "detail" in missing.json()
    missing = http.post("/v1/agents/agent-missing/messages", json={"input": "hi"})
    assert missing.status_code == 404
    assert "detail" in missing.json()
    both = http.post(url, json={"input": "hi", "messages": [{"role": "user", "content": "x"}]})
    assert both.status_code == 422
    assert "not both" in both.json()["detail"]
    # Bodies the model refuses, or that are not JSON: FastAPI's answers.
    invalid = http.post(url, json={"messages": [{"role": "wizard", "content": "hi"}]})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"][0] == "body"
    broken = http.post(url, content=b'{"messages": [', headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["type"] == "json_invalid"

    after = scrape(http)
    for status, count in (("200", 3), ("404", 2), ("422", 3)):
        labels = {"method": "POST", "route": ROUTE, "status": status}
        grew = value(after, "troupe_http_requests_total", **labels) - value(
            before, "troupe_http_requests_total", **labels
        )
        assert grew == count, (status, grew)
    history = http.get(url).json()
    assert [m["message_type"] for m in history].count("user_message") == 3
