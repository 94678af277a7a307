"""With TROUPE_API_KEY set, every /v1 route needs `Authorization: Bearer <key>`."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import AuthenticationError, Letta

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


@pytest.fixture(scope="module")
def keyed(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_factory("sqlite"), tmp_path_factory.mktemp("auth"), env={"TROUPE_API_KEY": KEY}
    )
    server.start()
    yield server
    server.stop()


def v1_routes(url: str) -> list[tuple[str, str]]:
    """Every (method, path) under /v1 in the server's own OpenAPI document, ids filled in."""
    spec = httpx.get(f"{url}/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, item in spec["paths"].items()
        for method in item
        if path.startswith("/v1")
    ]


def test_the_openapi_document_stays_open(keyed: ServerProcess) -> None:
    response = httpx.get(f"{keyed.url}/openapi.json")
    assert response.status_code == 200
    assert "/v1/agents" in " ".join(response.json()["paths"])


def test_every_v1_route_refuses_a_missing_or_wrong_key(keyed: ServerProcess) -> None:
    routes = v1_routes(keyed.url)
    assert len(routes) > 25
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        for method, path in routes:
            for headers in WRONG:
                response = http.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "TROUPE_API_KEY" in response.json()["detail"]


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
