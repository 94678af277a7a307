"""GET /v1/models and /v1/models/embedding through both SDK lines: the embedded models
always, a configured provider's models read from its own list (a fake OpenAI-compatible
server on 127.0.0.1)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from letta_client import Letta

from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess
from troupe.llm.fake_server import FakeLLMServer


def test_the_embedded_models_are_always_listed(client: Any, legacy_client: Any) -> None:
    handles = [m.handle for m in client.models.list()]
    assert "local/smollm2-135m" in handles
    (embedded,) = [m for m in client.models.embeddings.list() if m.handle.startswith("local/")]
    assert (embedded.handle, embedded.embedding_dim) == ("local/all-MiniLM-L6-v2", 384)
    assert "local/smollm2-135m" in [m.handle for m in legacy_client.models.list_llms()]
    legacy = legacy_client.models.list_embedding_models()
    assert ("local/all-MiniLM-L6-v2", 384) in [(m.handle, m.embedding_dim) for m in legacy]


@pytest.fixture(params=["sqlite", "postgres"])
def provider_server(
    request: pytest.FixtureRequest, database_factory: Any, tmp_path: Path
) -> Iterator[tuple[ServerProcess, FakeLLMServer]]:
    with FakeLLMServer() as fake:
        fake.models = ["gpt-fake", "text-embedding-fake", "tts-fake"]
        env = {"OPENAI_BASE_URL": fake.openai_base_url, "OPENAI_API_KEY": "sk-test"}
        proc = ServerProcess(database_factory(request.param), tmp_path, env=env)
        proc.start()
        try:
            yield proc, fake
        finally:
            proc.stop()


def test_a_configured_providers_own_list_is_read(
    provider_server: tuple[ServerProcess, FakeLLMServer],
) -> None:
    proc, fake = provider_server
    client = Letta(base_url=proc.url)
    handles = {m.handle for m in client.models.list()}
    assert handles == {"local/smollm2-135m", "openai/gpt-fake"}
    assert [m.handle for m in client.models.list(provider_name="openai")] == ["openai/gpt-fake"]
    embeddings = {m.handle for m in client.models.embeddings.list()}
    assert embeddings == {"local/all-MiniLM-L6-v2", "openai/text-embedding-fake"}
    legacy = legacy_sdk().Letta(base_url=proc.url)
    assert "openai/gpt-fake" in {m.handle for m in legacy.models.list_llms()}

    # An agent embedding through that provider: its archival memory uses the fake's vectors.
    agent = client.agents.create(
        name="provider-embedder",
        model="test/echo",
        embedding_config={
            "embedding_endpoint_type": "openai",
            "embedding_model": "text-embedding-3-small",
            "embedding_dim": 8,
        },
    )
    (passage,) = client.agents.passages.create(agent.id, text="alpha beta")
    assert len(passage.embedding) == 8
    assert fake.embedding_requests[-1] == {
        "model": "text-embedding-3-small",
        "input": ["alpha beta"],
        "encoding_format": "float",
        "dimensions": 8,
    }
    found = client.agents.passages.search(agent.id, query="beta alpha")
    assert [r.content for r in found.results] == ["alpha beta"]

    # A model that answers with another dimension than the config says: refused, nothing kept.
    wrong = client.agents.create(
        name="wrong-dimension",
        model="test/echo",
        embedding_config={
            "embedding_endpoint_type": "openai",
            "embedding_model": "my-embedder",
            "embedding_dim": 16,
        },
    )
    bad = httpx.post(f"{proc.url}/v1/agents/{wrong.id}/archival-memory", json={"text": "x"})
    assert bad.status_code == 400, bad.text
    assert "dimension" in bad.json()["detail"]
    assert client.agents.passages.list(wrong.id) == []
