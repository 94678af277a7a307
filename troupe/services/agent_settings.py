"""An agent's model and embedding settings, from what a request names: a handle, a full
config, or nothing (the defaults)."""

from typing import Any

from troupe.errors import InvalidInput
from troupe.llm.embeddings import checked_config, config_for_handle
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
        return checked_config(config)  # one we can serve, or a clear 422
    return config_for_handle(handle) if handle else None


RESPONSE_FORMATS = ("text", "json_object", "json_schema")


def check_response_format(wanted: dict[str, Any] | None) -> None:
    """A 422 for a response format no adapter can send (None: the model's own)."""
    if wanted is None:
        return
    if wanted.get("type") not in RESPONSE_FORMATS:
        raise InvalidInput(f"response_format.type is one of {', '.join(RESPONSE_FORMATS)}")
    if wanted.get("type") == "json_schema" and not isinstance(wanted.get("json_schema"), dict):
        raise InvalidInput("a json_schema response_format needs `json_schema` (an object)")


def with_model_settings(
    config: LLMConfig,
    settings: dict[str, Any] | None,
    response_format: dict[str, Any] | None = None,
) -> LLMConfig:
    """The config with letta-client 1.x's `model_settings` applied (the fields of every
    provider's settings type that troupe's adapters send); what a request leaves out stays.
    `response_format` is the top-level field 1.x still sends (deprecated for model_settings')."""
    if response_format is not None:
        settings = {**(settings or {}), "response_format": response_format}
    if not settings:
        return config
    if isinstance(settings.get("response_format"), dict):
        check_response_format(settings["response_format"])
    changes: dict[str, Any] = {}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("max_tokens", "max_output_tokens"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("response_format", "response_format"),
    ):
        if theirs in settings:
            changes[ours] = settings[theirs]
    reasoning = settings.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("reasoning_effort"):
        changes["reasoning_effort"] = reasoning["reasoning_effort"]
    thinking = settings.get("thinking")
    if isinstance(thinking, dict) and "type" in thinking:
        changes["enable_reasoner"] = thinking["type"] == "enabled"
        changes["max_reasoning_tokens"] = thinking.get("budget_tokens")
    try:
        return LLMConfig.model_validate({**config.model_dump(), **changes})
    except ValueError as exc:
        raise InvalidInput(f"model_settings: {exc}") from None
