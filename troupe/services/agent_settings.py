"""An agent's model and embedding settings, from what a request names: a handle, a full
config, or nothing (the defaults)."""

from troupe.errors import InvalidInput
from troupe.llm.embeddings import config_for_handle, embedding_handle
from troupe.llm.handles import DEFAULT_MODEL, handle_for, llm_config_for
from troupe.schemas.agents import MAX_HANDLE_LENGTH
from troupe.schemas.common import EmbeddingConfig, LLMConfig


def model_settings(
    model: str | None, llm_config: LLMConfig | None, context_window: int | None
) -> tuple[str, LLMConfig]:
    """The agent's model handle and its config."""
    if model:
        return model, llm_config_for(model, context_window=context_window)
    if llm_config:
        handle = handle_for(llm_config)
        if len(handle) > MAX_HANDLE_LENGTH:
            raise InvalidInput(
                f"model handle {handle[:40]!r}... is longer than {MAX_HANDLE_LENGTH} characters; "
                "shorten `llm_config.model`"
            )
        config = llm_config.model_copy(update={"handle": handle})
        if context_window:
            config.context_window = context_window
        return handle, config
    return DEFAULT_MODEL, llm_config_for(DEFAULT_MODEL, context_window=context_window)


def embedding_settings(
    handle: str | None, config: EmbeddingConfig | None
) -> EmbeddingConfig | None:
    """The embedding a request names: a full config, or a handle's. None when it names
    none: Letta shows `embedding_config: null` then, and troupe embeds that agent's
    archival memory with the embedded embedder (llm/embeddings/)."""
    if config is not None:
        handle = embedding_handle(config)
        config_for_handle(handle)  # one we can serve, or a clear 422
        return config.model_copy(update={"handle": handle})
    return config_for_handle(handle) if handle else None
