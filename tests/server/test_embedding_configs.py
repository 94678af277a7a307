"""Embedding configs a client sends are held to what troupe can embed with them: a config
whose dimension the model cannot produce is refused (it would store vectors that do not
match it, and later accept embeddings of the wrong size), and a folder's embedding cannot
move under files embedded with another model. Both SDK lines, SQLite and PostgreSQL."""

from typing import Any

import letta_client
import pytest

from tests.server.helpers import unique
from tests.support.sdks import legacy_sdk

SDK_ERRORS = (letta_client.APIStatusError, legacy_sdk().core.api_error.ApiError)

MINILM_100 = {
    "embedding_endpoint_type": "hugging-face",
    "embedding_model": "all-MiniLM-L6-v2",
    "embedding_dim": 100,
}
OPENAI_SMALL = {
    "embedding_endpoint_type": "openai",
    "embedding_model": "text-embedding-3-small",
    "embedding_dim": 1536,
}


def _status(call: Any) -> int:
    with pytest.raises(SDK_ERRORS) as caught:
        call()
    return int(caught.value.status_code)


def test_a_dimension_the_embedded_model_cannot_produce_is_refused(
    client: Any, legacy_client: Any
) -> None:
    name = unique("dim")
    assert (
        _status(
            lambda: client.agents.create(name=name, model="test/echo", embedding_config=MINILM_100)
        )
        == 422
    )
    assert _status(lambda: client.archives.create(name=name, embedding_config=MINILM_100)) == 422
    assert _status(lambda: client.folders.create(name=name, embedding_config=MINILM_100)) == 422
    assert (
        _status(lambda: legacy_client.sources.create(name=name, embedding_config=MINILM_100)) == 422
    )
    assert list(client.agents.list(name=name)) == []
    assert list(client.archives.list(name=name)) == []
    assert list(client.folders.list(name=name)) == []

    agent = client.agents.create(name=unique("dim"), model="test/echo")
    assert _status(lambda: client.agents.update(agent.id, embedding_config=MINILM_100)) == 422
    assert client.agents.retrieve(agent.id).embedding_config is None

    # Letta's free embedding is served by the embedded model here: its config is taken,
    # with the dimension of the vectors troupe stores for it.
    free = client.agents.create(
        name=unique("free"),
        model="test/echo",
        embedding_config={
            "embedding_endpoint_type": "openai",
            "embedding_model": "letta-free",
            "embedding_dim": 1536,
            "handle": "letta/letta-free",
        },
    )
    assert free.embedding_config.embedding_dim == 384
    (passage,) = client.agents.passages.create(free.id, text="stored with the embedded model")
    assert len(passage.embedding) == passage.embedding_config.embedding_dim == 384
    assert (
        _status(
            lambda: legacy_client.agents.modify_passage(
                agent_id=free.id, memory_id=passage.id, id=passage.id, embedding=[0.1] * 1536
            )
        )
        == 422
    )


def test_a_folder_embedding_change_is_checked_and_never_mixes_models(
    client: Any, legacy_client: Any
) -> None:
    empty = client.folders.create(name=unique("empty"))
    garbage = {"embedding_endpoint_type": "nope", "embedding_model": "x", "embedding_dim": 5}
    assert _status(lambda: client.folders.update(empty.id, embedding_config=garbage)) == 422
    assert _status(lambda: client.folders.update(empty.id, embedding_config=MINILM_100)) == 422
    assert client.folders.retrieve(empty.id).embedding_config == empty.embedding_config
    # An empty folder may change model: nothing was embedded with the old one.
    moved = client.folders.update(empty.id, embedding_config=OPENAI_SMALL).embedding_config
    assert (moved.handle, moved.embedding_dim) == ("openai/text-embedding-3-small", 1536)

    full = client.folders.create(name=unique("full"))
    client.folders.files.upload(full.id, file=("a.txt", b"kept as it was", "text/plain"))
    assert _status(lambda: client.folders.update(full.id, embedding_config=OPENAI_SMALL)) == 409
    legacy_modify = lambda: legacy_client.sources.modify(  # noqa: E731
        source_id=full.id, embedding_config=OPENAI_SMALL
    )
    assert _status(legacy_modify) == 409
    assert client.folders.retrieve(full.id).embedding_config == full.embedding_config
    # What does not change the vectors may change.
    chunked = client.folders.update(full.id, embedding_config={"embedding_chunk_size": 100})
    assert chunked.embedding_config.embedding_chunk_size == 100
    assert chunked.embedding_config.handle == "local/all-MiniLM-L6-v2"
