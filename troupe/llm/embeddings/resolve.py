"""From an `embedding_config` (or a handle such as `openai/text-embedding-3-small`) to the
embedder that serves it. Provider embeddings go through the provider table (llm/providers.py):
its base URL and key variables, read in config.py."""

import threading

from troupe.errors import InvalidInput
from troupe.llm.base import ModelNotConfigured
from troupe.llm.embeddings import local
from troupe.llm.embeddings.base import Embedder
from troupe.llm.providers import PROVIDERS, endpoint_for
from troupe.schemas.common import EmbeddingConfig

LOCAL_HANDLE = "local/all-MiniLM-L6-v2"
DEFAULT_EMBEDDING = LOCAL_HANDLE
# Agents made before troupe had embeddings: their archival search stays keyword-only until
# their embedding is changed (which embeds their passages).
KEYWORD_HANDLE = "local/keyword"
# Letta's free hosted embedding has no server here; its handle gets the embedded model.
LOCAL_ALIASES = frozenset(
    h.lower()
    for h in (
        LOCAL_HANDLE,
        "letta/letta-free",
        "hugging-face/all-MiniLM-L6-v2",
        "hugging-face/sentence-transformers/all-MiniLM-L6-v2",
        "local/sentence-transformers/all-MiniLM-L6-v2",
    )
)
# Providers that serve `/v1/embeddings` (OpenAI's wire format).
EMBEDDING_PROVIDERS = ("openai", "ollama", "vllm", "lmstudio", "llamacpp", "openrouter")
# What each well-known model gives when not asked for fewer dimensions.
NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "nomic-embed-text": 768,
    "mxbai-embed-large": 1024,
    "all-minilm": 384,
    "bge-m3": 1024,
}
# Letta's endpoint types that name a provider of ours by another word.
ENDPOINT_PROVIDER = {"hugging-face": "local"}

_local: local.MiniLMEmbedder | None = None
_lock = threading.Lock()


def embedding_handle(config: EmbeddingConfig) -> str:
    """The handle an embedding config stands for."""
    if config.handle:
        return config.handle
    if config.embedding_model == "keyword":
        return KEYWORD_HANDLE
    provider = ENDPOINT_PROVIDER.get(config.embedding_endpoint_type, config.embedding_endpoint_type)
    return f"{provider}/{config.embedding_model}"


def config_for_handle(handle: str) -> EmbeddingConfig:
    """The full `embedding_config` of an embedding handle; a clear error for one we cannot run."""
    if handle.lower() in LOCAL_ALIASES:
        return EmbeddingConfig(
            embedding_endpoint_type="hugging-face",
            embedding_model="all-MiniLM-L6-v2",
            embedding_dim=local.DIMENSION,
            embedding_chunk_size=300,
            handle=LOCAL_HANDLE,
        )
    if handle == KEYWORD_HANDLE:
        return EmbeddingConfig(handle=KEYWORD_HANDLE)
    prefix, _, model = handle.partition("/")
    if prefix not in EMBEDDING_PROVIDERS or not model:
        raise InvalidInput(
            f"embedding {handle!r} cannot be served: use {LOCAL_HANDLE} (embedded, no key) or "
            f"provider/model with a provider of {', '.join(EMBEDDING_PROVIDERS)}"
        )
    return EmbeddingConfig(
        embedding_endpoint_type=PROVIDERS[prefix].endpoint_type,
        embedding_model=model,
        embedding_dim=NATIVE_DIMENSIONS.get(model, 0),
        embedding_chunk_size=300,
        handle=handle,
    )


def checked_config(config: EmbeddingConfig) -> EmbeddingConfig:
    """A config a client sent, with its handle: one this server can serve (else 422). The
    embedded model's vectors always measure 384, so a config asking for another dimension is
    refused rather than stored over vectors that do not match it (Letta's free embedding,
    served by the embedded model here, takes the embedded model's dimension)."""
    handle = embedding_handle(config)
    config_for_handle(handle)
    if handle.lower() not in LOCAL_ALIASES:
        return config.model_copy(update={"handle": handle})
    dim = config.embedding_dim
    if dim and dim != local.DIMENSION and handle.lower() != "letta/letta-free":
        raise InvalidInput(
            f"embedding_dim {dim} does not fit {handle}: its vectors have "
            f"{local.DIMENSION} dimensions"
        )
    return config.model_copy(update={"handle": handle, "embedding_dim": local.DIMENSION})


def resolve_embedder(config: EmbeddingConfig) -> Embedder | None:
    """The embedder of a config; None for keyword-only search. Provider embedders are built
    from the environment as it is now (a missing key fails here, saying what to set)."""
    handle = embedding_handle(config)
    if handle == KEYWORD_HANDLE:
        return None
    if handle.lower() in LOCAL_ALIASES:
        return local_embedder()
    prefix, _, model = handle.partition("/")
    if prefix not in EMBEDDING_PROVIDERS or not model:
        raise ModelNotConfigured(f"embedding {handle!r} has no embedder in this server")
    from troupe.llm.embeddings.openai_compat import OpenAICompatibleEmbedder

    return OpenAICompatibleEmbedder(
        handle,
        model,
        endpoint_for(prefix),
        dimension=config.embedding_dim or None,
        native=NATIVE_DIMENSIONS.get(model),
    )


def local_embedder() -> local.MiniLMEmbedder:
    """The process's one embedded embedder."""
    global _local
    with _lock:
        if _local is None:
            _local = local.MiniLMEmbedder(LOCAL_HANDLE)
        return _local
