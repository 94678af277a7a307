"""/metrics: Prometheus text counting requests, runs, steps, model calls, tool calls, and
the state of the mailbox, the agents' locks and the database pools; behind the API key."""

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.server.helpers import make_agent, script, send
from tests.server.test_auth import KEY, keyed  # noqa: F401  (the keyed servers fixture)
from tests.support.servers import ServerProcess

UNREACHABLE = "test/function:tests.support.models:unreachable"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(http: httpx.Client, **headers: str) -> Samples:
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_runs_are_counted_by_lettas_stop_reason(http: httpx.Client) -> None:
    """A run the provider failed counts under Letta's reason for it, not a plain `error`."""
    agent = make_agent(http, model=UNREACHABLE)
    before = scrape(http)
    assert send(http, agent["id"], "hello?")["stop_reason"]["stop_reason"] == "llm_api_error"
    after = scrape(http)
    runs = "troupe_runs_total"
    assert (
        value(after, runs, stop_reason="llm_api_error")
        - value(before, runs, stop_reason="llm_api_error")
        == 1
    )
    assert value(after, runs, stop_reason="error") == value(before, runs, stop_reason="error")


def test_metrics_count_what_a_turn_did(http: httpx.Client) -> None:
    agent = make_agent(http, memory_blocks=[{"label": "human", "value": ""}])
    before = scrape(http)
    send(
        http,
        agent["id"],
        script(
            {"tool": "core_memory_append", "args": {"label": "human", "content": "likes tea"}},
            {"tool": "core_memory_append", "args": {"label": "nowhere", "content": "x"}},
            {"tool": "send_message", "args": {"message": "noted"}},
        ),
    )
    after = scrape(http)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "POST", "route": "/v1/agents/{agent_id}/messages", "status": "200"}
    assert grew("troupe_http_requests_total", **route) >= 1
    assert grew("troupe_runs_total", stop_reason="end_turn") >= 1
    assert grew("troupe_steps_total") >= 3
    model = {"provider": "test", "model": "scripted"}
    assert grew("troupe_model_call_duration_seconds_count", **model, outcome="ok") >= 3
    assert grew("troupe_model_tokens_total", **model, type="input") >= 30  # 10 a step
    assert grew("troupe_model_tokens_total", **model, type="output") >= 15
    assert grew("troupe_tool_calls_total", tool="core_memory_append", status="success") >= 1
    assert grew("troupe_tool_calls_total", tool="core_memory_append", status="error") >= 1
    # The state gauges are there, read at the scrape.
    assert ("troupe_mailbox_depth", frozenset()) in after
    assert value(after, "troupe_agents_waiting_on_lock") >= 0
    assert value(after, "troupe_db_pool_size", pool="write") >= 1
    assert ("troupe_db_pool_checked_out", frozenset({("pool", "read")})) in after
    # A path that matches no route is one series, not one per path.
    http.get("/v1/nothing-here/abc")
    unmatched = scrape(http)
    assert (
        value(
            unmatched, "troupe_http_requests_total", method="GET", route="unmatched", status="404"
        )
        >= 1
    )
    assert not any("abc" in dict(labels).get("route", "") for _, labels in unmatched)


@pytest.fixture
def keyed_http(keyed: ServerProcess) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=keyed.url, timeout=30) as client:
        yield client


def test_metrics_need_the_api_key_when_one_is_set(keyed_http: httpx.Client) -> None:
    assert keyed_http.get("/metrics").status_code == 401
    assert keyed_http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    samples = scrape(keyed_http, Authorization=f"Bearer {KEY}")
    refused = {"method": "GET", "route": "/metrics", "status": "401"}
    assert value(samples, "troupe_http_requests_total", **refused) >= 2
