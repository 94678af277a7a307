"""A real keyed server accepts a tool token signed with the secret derived from its key, and
refuses tampered, foreign, expired and garbage ones with 401 (never a 500)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.servers import ServerProcess
from troupe.config import Settings
from troupe.tools.tokens import issue_tool_token, tool_token_secret

KEY = "k-tool-token-auth"


@pytest.fixture(scope="module")
def keyed(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_factory("sqlite"), tmp_path_factory.mktemp("tokens"), env={"TROUPE_API_KEY": KEY}
    )
    server.start()
    yield server
    server.stop()


def _agents(server: ServerProcess, authorization: str | bytes) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/agents/", headers={"Authorization": authorization}, timeout=30
    )


def test_a_tool_token_from_the_derived_secret_is_accepted(keyed: ServerProcess) -> None:
    token = issue_tool_token(tool_token_secret(Settings(api_key=KEY)), "agent-caller")
    assert _agents(keyed, f"Bearer {token}").status_code == 200
    assert _agents(keyed, f"Bearer {KEY}").status_code == 200  # the key itself still works


def test_tampered_foreign_and_expired_tool_tokens_are_refused(keyed: ServerProcess) -> None:
    secret = tool_token_secret(Settings(api_key=KEY))
    prefix, body, signature = issue_tool_token(secret, "agent-caller").split(".")
    other_body = issue_tool_token(secret, "agent-other").split(".")[1]
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    refused = {
        "tampered signature": f"{prefix}.{body}.{flipped}",
        "swapped agent": f"{prefix}.{other_body}.{signature}",
        "other server's key": issue_tool_token(
            tool_token_secret(Settings(api_key="another-key")), "agent-caller"
        ),
        "expired": issue_tool_token(secret, "agent-caller", ttl_s=-5),
        "the bare secret": secret,
    }
    for what, token in refused.items():
        response = _agents(keyed, f"Bearer {token}")
        assert response.status_code == 401, what
        assert response.json()["detail"].startswith("this troupe server needs an API key")


def test_a_non_ascii_bearer_token_is_refused_not_a_server_error(keyed: ServerProcess) -> None:
    assert _agents(keyed, b"Bearer \xe9t\xe9").status_code == 401
    assert _agents(keyed, b"Bearer tt1.\xe9.\xe9").status_code == 401
