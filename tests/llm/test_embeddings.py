"""Embedders: the embedded MiniLM (real vectors, no network) and provider embeddings through
the official `openai` SDK against a fake OpenAI-compatible server on 127.0.0.1."""

import math

import pytest

from troupe.errors import InvalidInput
from troupe.llm.base import ModelNotConfigured
from troupe.llm.embeddings import (
    DEFAULT_EMBEDDING,
    KEYWORD_HANDLE,
    EmbeddingError,
    config_for_handle,
    embedding_handle,
    resolve_embedder,
)
from troupe.llm.fake_server import FakeLLMServer
from troupe.schemas.common import EmbeddingConfig


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
        sum(x * x for x in a) * sum(y * y for y in b)
    )


async def test_the_embedded_embedder_puts_paraphrases_near_each_other() -> None:
    embedder = resolve_embedder(config_for_handle(DEFAULT_EMBEDDING))
    assert embedder is not None
    assert embedder.dimension == 384
    queries = ["What pet does the user keep?", "Where is Sam employed?"]
    passages = ["I have a small dog called Biscuit.", "Sam works at a bakery downtown."]
    q, p = await embedder.embed(queries), await embedder.embed(passages)
    assert all(len(v) == 384 and abs(math.hypot(*v) - 1) < 1e-3 for v in q + p)
    assert _cosine(q[0], p[0]) > _cosine(q[0], p[1])
    assert _cosine(q[1], p[1]) > _cosine(q[1], p[0])


async def test_the_embedded_embedder_gives_one_vector_per_text_whatever_the_batch() -> None:
    embedder = resolve_embedder(config_for_handle("letta/letta-free"))  # Letta's alias
    assert embedder is not None
    texts = [f"note {i}: " + "word " * (i % 7) for i in range(70)]  # more than one batch
    together = await embedder.embed(texts)
    alone = [(await embedder.embed([t]))[0] for t in texts[:3] + texts[-2:]]
    for got, want in zip(alone, together[:3] + together[-2:], strict=True):
        assert _cosine(got, want) > 0.999
    assert await embedder.embed([]) == []


def test_handles_and_configs() -> None:
    local = config_for_handle("local/all-minilm-l6-v2")
    assert (local.handle, local.embedding_dim) == (DEFAULT_EMBEDDING, 384)
    openai = config_for_handle("openai/text-embedding-3-small")
    assert (openai.embedding_endpoint_type, openai.embedding_dim) == ("openai", 1536)
    assert resolve_embedder(config_for_handle(KEYWORD_HANDLE)) is None
    # A config a Letta client sends names an endpoint type, not a handle.
    sent = EmbeddingConfig(embedding_endpoint_type="ollama", embedding_model="nomic-embed-text")
    assert embedding_handle(sent) == "ollama/nomic-embed-text"
    with pytest.raises(InvalidInput, match="cannot be served"):
        config_for_handle("anthropic/claude-embed")
    with pytest.raises(InvalidInput, match="cannot be served"):
        config_for_handle("nonsense")


async def test_openai_embeddings_go_through_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLMServer() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        config = config_for_handle("openai/text-embedding-3-small").model_copy(
            update={"embedding_dim": 16}
        )
        embedder = resolve_embedder(config)
        assert embedder is not None
        vectors = await embedder.embed(["alpha beta", "beta alpha", "gamma"])
        assert [len(v) for v in vectors] == [16, 16, 16]
        assert vectors[0] == vectors[1] != vectors[2]
        # A shorter vector than the model's native one is asked for by name.
        assert fake.embedding_requests[-1]["dimensions"] == 16
        assert fake.embedding_requests[-1]["model"] == "text-embedding-3-small"


async def test_ollama_embeddings_and_a_wrong_dimension(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLMServer() as fake:
        monkeypatch.setenv("OLLAMA_BASE_URL", fake.openai_base_url)
        sent = EmbeddingConfig(embedding_endpoint_type="ollama", embedding_model="my-embedder")
        embedder = resolve_embedder(sent)
        assert embedder is not None
        assert embedder.dimension is None
        assert [len(v) for v in await embedder.embed(["hello"])] == [fake.embedding_dim]
        assert embedder.dimension == fake.embedding_dim
        # A config that promises another dimension than the model gives is refused.
        promised = sent.model_copy(update={"embedding_dim": 32})
        wrong = resolve_embedder(promised)
        assert wrong is not None
        with pytest.raises(EmbeddingError, match="dimension"):
            await wrong.embed(["hello"])
        assert "dimensions" not in fake.embedding_requests[-1]


def test_openai_embeddings_need_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelNotConfigured, match="OPENAI_API_KEY"):
        resolve_embedder(config_for_handle("openai/text-embedding-3-small"))
