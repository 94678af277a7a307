"""Model handles (`provider/model`) and the `llm_config` Letta clients expect for each."""

from troupe.errors import InvalidInput
from troupe.llm.providers import PROVIDERS
from troupe.schemas.common import LLMConfig

DEFAULT_MODEL = "local/smollm2-135m"

# Handles of Letta's hosted service that scripts name, and the model that runs them here:
# 0.1.x scripts create agents on Letta's free model.
ALIASES = {"letta/letta-free": DEFAULT_MODEL}


def runs_on(handle: str) -> str:
    """The handle whose model answers for `handle` (itself, unless it is an alias)."""
    return ALIASES.get(handle, handle)


def parse_handle(handle: str) -> tuple[str, str]:
    """(provider, model) of a handle; an alias parses as the handle it runs on."""
    provider, sep, model = runs_on(handle).partition("/")
    if not sep or not provider or not model:
        raise InvalidInput(
            f"model {handle!r} is not a handle: write `provider/model`, e.g. `openai/gpt-4.1-mini` "
            f"(providers: {', '.join(sorted(PROVIDERS))})"
        )
    if provider not in PROVIDERS:
        raise InvalidInput(
            f"unknown model provider {provider!r} in {handle!r}; "
            f"known providers: {', '.join(sorted(PROVIDERS))}"
        )
    return provider, model


def reads_images(handle: str) -> bool:
    """Whether the model of `handle` (of an alias: the model it runs on) may be shown images."""
    return PROVIDERS[parse_handle(handle)[0]].reads_images


def llm_config_for(handle: str, *, context_window: int | None = None) -> LLMConfig:
    prefix, model = parse_handle(handle)
    provider = PROVIDERS[prefix]
    return LLMConfig(
        model=handle.partition("/")[2] if handle in ALIASES else model,
        model_endpoint_type=provider.endpoint_type,
        context_window=context_window or provider.context_window,
        handle=handle,
        temperature=provider.temperature,
    )


def handle_for(config: LLMConfig) -> str:
    """The handle for a client-sent `llm_config` (which names an endpoint type, not a provider)."""
    if config.handle:
        parse_handle(config.handle)
        return config.handle
    known = ", ".join(sorted(PROVIDERS))
    # Letta's LLMConfig requires the endpoint type; guessing one would switch the agent to a
    # model that no provider serves, and every turn would fail.
    if "model_endpoint_type" not in config.model_fields_set:
        raise InvalidInput(
            "llm_config names no `model_endpoint_type` (nor a `handle`): say who serves "
            f"{config.model!r} (one of: {known}), or give `model` as a `provider/model` handle"
        )
    if config.model_endpoint_type not in PROVIDERS:
        raise InvalidInput(
            f"llm_config.model_endpoint_type {config.model_endpoint_type!r} is not one troupe "
            f"serves; known: {known}"
        )
    return f"{config.model_endpoint_type}/{config.model}"
