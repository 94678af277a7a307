"""0.1.x `providers`: what the environment configures is listed; settings set through the
API are created, modified and deleted, and their keys are never shown, nor logged."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

SECRET = "sk-very-secret-0123456789"


@pytest.fixture(params=["sqlite", "postgres"])
def keyed_env_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path: Path
) -> Iterator[ServerProcess]:
    env = {"ANTHROPIC_API_KEY": "sk-from-the-environment"}
    proc = ServerProcess(database_factory(request.param), tmp_path, env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_providers_are_listed_created_modified_and_deleted_with_write_only_keys(
    keyed_env_server: ServerProcess,
) -> None:
    sdk = legacy_sdk()
    client = sdk.Letta(base_url=keyed_env_server.url)
    listed = client.providers.list_providers()
    assert {p.name for p in listed} >= {"local", "anthropic"}
    assert all(p.api_key is None for p in listed)
    made = client.providers.create_provider(name="openai", api_key=SECRET)
    assert made.name == "openai"
    assert made.api_key is None
    assert made.id in [p.id for p in client.providers.list_providers()]
    changed = client.providers.modify_provider(id=made.id, api_key=SECRET + "-new")
    assert changed.api_key is None
    with httpx.Client(base_url=keyed_env_server.url) as http:
        twice = http.post("/v1/providers", json={"name": "openai", "api_key": SECRET})
        assert twice.status_code == 409
        bad = http.post("/v1/providers", json={"api_key": SECRET})  # no name
        assert bad.status_code == 422
        env_owned = http.patch(
            "/v1/providers", json={"id": "provider-env-anthropic", "api_key": SECRET}
        )
        assert env_owned.status_code == 422
        everything = [twice.text, bad.text, env_owned.text, http.get("/v1/providers").text]
    assert all(SECRET not in text for text in everything)
    client.providers.delete_provider(provider_id=made.id)
    assert made.id not in [p.id for p in client.providers.list_providers()]
    api_error = sdk.core.api_error.ApiError
    with pytest.raises(api_error) as gone:
        client.providers.delete_provider(provider_id=made.id)
    assert gone.value.status_code == 404
    assert SECRET not in keyed_env_server.log_path.read_text()
