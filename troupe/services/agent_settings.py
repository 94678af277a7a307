"""An agent's model and embedding settings, from what a request names: a handle, a full
config, or nothing (the defaults)."""

from troupe.errors import InvalidInput
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
    """None when the request names no embedding: Letta shows `embedding_config: null` then."""
    if config is not None:
        return config
    if handle:
        provider, _, model = handle.partition("/")
        return EmbeddingConfig(
            embedding_endpoint_type=provider, embedding_model=model or handle, handle=handle
        )
    return None
