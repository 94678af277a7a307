"""With TROUPE_API_KEY set, every /v1 route needs `Authorization: Bearer <key>`."""

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import AuthenticationError, Letta

from tests.drills.helpers import assert_store_intact
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

KEY = "k-" + "s" * 20
WRONG = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": KEY},  # no scheme
    {"Authorization": f"Basic {KEY}"},
    {"Authorization": f"Bearer {KEY}x"},
    {"Authorization": "Bearer"},
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def keyed(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_factory(request.param),
        tmp_path_factory.mktemp("auth"),
        env={"TROUPE_API_KEY": KEY},
    )
    server.start()
    yield server
    server.stop()


def v1_routes(url: str, ids: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Every (method, path) under /v1 in the server's own OpenAPI document, ids filled in
    (from `ids` by parameter name, else "x")."""
    spec = httpx.get(f"{url}/openapi.json").json()
    fill = ids or {}
    return [
        (method.upper(), re.sub(r"\{([^}]+)\}", lambda m: fill.get(m.group(1), "x"), path))
        for path, item in spec["paths"].items()
        for method in item
        if path.startswith("/v1")
    ]


def test_the_openapi_document_stays_open(keyed: ServerProcess) -> None:
    response = httpx.get(f"{keyed.url}/openapi.json")
    assert response.status_code == 200
    assert "/v1/agents" in " ".join(response.json()["paths"])


OPEN = {("GET", "/v1/health")}  # for probes: the version and status, nothing else


def test_every_v1_route_refuses_a_missing_or_wrong_key(keyed: ServerProcess) -> None:
    routes = [r for r in v1_routes(keyed.url) if r not in OPEN]
    assert len(routes) > 25
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        for method, path in routes:
            for headers in WRONG:
                response = http.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "TROUPE_API_KEY" in response.json()["detail"]


def test_health_answers_without_the_key_with_version_and_status_only(
    keyed: ServerProcess,
) -> None:
    for headers in WRONG:
        response = httpx.get(f"{keyed.url}/v1/health/", headers=headers)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"version", "status"}
        assert response.json()["status"] == "ok"
    assert legacy_sdk().Letta(base_url=keyed.url).health.check().status == "ok"
    assert Letta(base_url=keyed.url, api_key="not-the-key").health().status == "ok"


def _state(http: httpx.Client) -> str:
    """Everything a write could have changed, read with the key."""
    headers = {"Authorization": f"Bearer {KEY}"}
    return json.dumps(
        {
            path: http.get(path, headers=headers, params={"limit": 10_000}).json()
            for path in ("/v1/agents/", "/v1/blocks/", "/v1/tools/", "/v1/tags/", "/v1/runs/")
        },
        sort_keys=True,
    )


def _real_ids(http: httpx.Client) -> dict[str, str]:
    """An agent, its block, a tool, a run and its trace, for routes to aim at."""
    headers = {"Authorization": f"Bearer {KEY}"}
    agent = http.post(
        "/v1/agents/",
        headers=headers,
        json={
            "name": "guarded",
            "model": "test/echo",
            "memory_blocks": [{"label": "persona", "value": "p"}],
        },
    ).json()
    source = "def guarded_tool(x: int) -> int:\n    '''Echo.'''\n    return x"
    tool = http.put("/v1/tools/", headers=headers, json={"source_code": source}).json()
    reply = http.post(f"/v1/agents/{agent['id']}/messages", headers=headers, json={"input": "hi"})
    run_id = reply.json()["messages"][0]["run_id"]
    return {
        "agent_id": agent["id"],
        "block_id": agent["blocks"][0]["id"],
        "block_label": "persona",
        "tool_id": tool["id"],
        "run_id": run_id,
        "trace_id": http.get(f"/v1/runs/{run_id}", headers=headers).json()["trace_id"],
    }


WOULD_WORK = {
    "name": "hijacked",
    "label": "hijacked",
    "value": "hijacked",
    "input": "do something",
    "source_code": "def hijack() -> str:\n    '''Hi.'''\n    return 'x'",
}


def test_a_refused_request_changes_nothing_whatever_its_body(keyed: ServerProcess) -> None:
    """Every route aimed at real objects, with a body that would work and with one that is
    not even JSON: 401 before the body is looked at, and nothing created, changed or run."""
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        ids = _real_ids(http)
        before = _state(http)
        for method, path in [r for r in v1_routes(keyed.url, ids) if r not in OPEN]:
            for body in ({"json": WOULD_WORK}, {"content": b"\xff{not json"}):
                response = http.request(method, path, **body)  # type: ignore[arg-type]
                assert response.status_code == 401, (method, path, response.text)
        assert _state(http) == before
    assert_store_intact(keyed.database_url)


def test_every_v1_route_lets_the_right_key_through(keyed: ServerProcess) -> None:
    """With the key, no route answers 401, and none fails: unknown ids give 404, empty bodies
    422, and so on."""
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        for method, path in v1_routes(keyed.url):
            response = http.request(
                method, path, headers={"Authorization": f"Bearer {KEY}"}, json={}
            )
            assert response.status_code != 401, (method, path, response.text)
            assert response.status_code < 500, (method, path, response.text)


def test_both_sdk_lines_work_with_the_key(keyed: ServerProcess) -> None:
    current = Letta(base_url=keyed.url, api_key=KEY)
    block = current.blocks.create(label="team", value="shared")
    agent = current.agents.create(name="keyed", model="test/echo", block_ids=[block.id])
    assert current.agents.blocks.retrieve("team", agent_id=agent.id).value == "shared"

    legacy = legacy_sdk().Letta(base_url=keyed.url, token=KEY)
    assert legacy.agents.retrieve(agent_id=agent.id).name == "keyed"
    assert legacy.blocks.list_agents_for_block(block_id=block.id)[0].id == agent.id
    assert legacy.health.check().status == "ok"


def test_both_sdk_lines_without_the_key_get_401(keyed: ServerProcess) -> None:
    with pytest.raises(AuthenticationError):
        Letta(base_url=keyed.url, api_key="not-the-key", max_retries=0).agents.list()
    legacy = legacy_sdk()
    with pytest.raises(legacy.core.api_error.ApiError) as caught:
        legacy.Letta(base_url=keyed.url, token="not-the-key").agents.list()
    assert caught.value.status_code == 401
