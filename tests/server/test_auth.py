"""With TROUPE_API_KEY set, every /v1 route needs the key."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

KEY = "k-" + "s" * 20


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


def test_every_route_in_the_openapi_document_refuses_a_missing_or_wrong_key(
    keyed: ServerProcess,
) -> None:
    spec = httpx.get(f"{keyed.url}/openapi.json").json()
    routes = [
        (m.upper(), p) for p, item in spec["paths"].items() for m in item if p.startswith("/v1")
    ]
    assert len(routes) > 25
    with httpx.Client(base_url=keyed.url, timeout=30) as http:
        for method, path in routes:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
                response = http.request(method, concrete, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "TROUPE_API_KEY" in response.json()["detail"]


def test_both_sdk_lines_work_with_the_key(keyed: ServerProcess) -> None:
    from letta_client import Letta

    current = Letta(base_url=keyed.url, api_key=KEY)
    agent = current.agents.create(name="keyed", model="test/echo")
    legacy = legacy_sdk().Letta(base_url=keyed.url, token=KEY)
    assert legacy.agents.retrieve(agent_id=agent.id).name == "keyed"
