"""Embedding models: text to vectors for archival memory and archives. `resolve_embedder`
turns an agent's (or archive's) `embedding_config` into an `Embedder`."""

from troupe.llm.embeddings.base import Embedder, EmbeddingError
from troupe.llm.embeddings.resolve import (
    DEFAULT_EMBEDDING,
    KEYWORD_HANDLE,
    checked_config,
    config_for_handle,
    embedding_handle,
    resolve_embedder,
)

__all__ = [
    "DEFAULT_EMBEDDING",
    "KEYWORD_HANDLE",
    "Embedder",
    "EmbeddingError",
    "checked_config",
    "config_for_handle",
    "embedding_handle",
    "resolve_embedder",
]
