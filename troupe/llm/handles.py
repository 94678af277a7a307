"""Model handles (`provider/model`) and the `llm_config` Letta clients expect for each."""

from troupe.errors import InvalidInput
from troupe.schemas.common import LLMConfig

DEFAULT_MODEL = "local/smollm2-135m"

# provider prefix -> (Letta's model_endpoint_type, default context window)
PROVIDERS: dict[str, tuple[str, int]] = {
    "openai": ("openai", 128_000),
    "anthropic": ("anthropic", 200_000),
    "ollama": ("ollama", 8_192),
    "vllm": ("vllm", 8_192),
    "lmstudio": ("lmstudio", 8_192),
    "llamacpp": ("llamacpp", 8_192),
    "openrouter": ("openai", 128_000),
    "local": ("llamacpp", 8_192),
    "test": ("openai", 32_000),
}


def parse_handle(handle: str) -> tuple[str, str]:
    provider, sep, model = handle.partition("/")
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


def llm_config_for(handle: str, *, context_window: int | None = None) -> LLMConfig:
    provider, model = parse_handle(handle)
    endpoint_type, default_window = PROVIDERS[provider]
    return LLMConfig(
        model=model,
        model_endpoint_type=endpoint_type,
        context_window=context_window or default_window,
        handle=handle,
        # A small local model stays on task far better at a low temperature.
        temperature=0.2 if provider == "local" else 0.7,
    )


def handle_for(config: LLMConfig) -> str:
    """The handle for a client-sent `llm_config` (which names an endpoint type, not a provider)."""
    if config.handle:
        parse_handle(config.handle)
        return config.handle
    provider = config.model_endpoint_type if config.model_endpoint_type in PROVIDERS else "openai"
    return f"{provider}/{config.model}"
