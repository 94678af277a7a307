"""The ONE provider table: for each handle prefix (`openai/...`), the adapter that speaks its
wire format, what Letta clients are told about it, and where its server and key come from.
Adapters are named as "module:factory" text and imported on first use, so importing this
table pulls in no vendor SDK."""

from dataclasses import dataclass
from typing import Literal

from troupe.config import ModelSettings, ProviderVariables
from troupe.llm import stored_keys
from troupe.llm.base import ModelNotConfigured

OPENAI_COMPATIBLE = "troupe.llm.openai_compat:from_handle"

# "required": no key, no model. "unless_base_url": a server of the user's own behind the base
# URL variable usually needs no real key. "optional": self-hosted servers.
KeyRule = Literal["required", "unless_base_url", "optional"]


@dataclass(frozen=True)
class Provider:
    """One handle prefix: who speaks its wire format, and where its server and key are."""

    prefix: str
    adapter: str  # "module:factory"; the factory takes the full handle
    endpoint_type: str  # Letta's `model_endpoint_type` in the agent's llm_config
    context_window: int  # the llm_config default when a client names none
    temperature: float = 0.7  # the llm_config default
    base_url_variable: str | None = None
    default_base_url: str | None = None  # None: the vendor SDK's own default
    key_variable: str | None = None
    key_rule: KeyRule = "optional"
    # Whether its models may be shown image parts. Servers of others' models are asked, and
    # their provider answers for a model that cannot see them; the embedded one is text only.
    reads_images: bool = True


def _self_hosted(
    prefix: str, default_base_url: str, base_url_variable: str, key_variable: str
) -> Provider:
    """An OpenAI-compatible server people run on their own machine (no key needed)."""
    return Provider(
        prefix,
        OPENAI_COMPATIBLE,
        endpoint_type=prefix,
        context_window=8_192,
        base_url_variable=base_url_variable,
        default_base_url=default_base_url,
        key_variable=key_variable,
    )


PROVIDERS: dict[str, Provider] = {
    p.prefix: p
    for p in (
        Provider(
            "openai",
            OPENAI_COMPATIBLE,
            endpoint_type="openai",
            context_window=128_000,
            base_url_variable="OPENAI_BASE_URL",
            key_variable="OPENAI_API_KEY",
            key_rule="unless_base_url",
        ),
        Provider(
            "anthropic",
            "troupe.llm.anthropic:from_handle",
            endpoint_type="anthropic",
            context_window=200_000,
            base_url_variable="ANTHROPIC_BASE_URL",
            key_variable="ANTHROPIC_API_KEY",
            key_rule="unless_base_url",
        ),
        Provider(
            "openrouter",
            OPENAI_COMPATIBLE,
            endpoint_type="openai",
            context_window=128_000,
            base_url_variable="OPENROUTER_BASE_URL",
            default_base_url="https://openrouter.ai/api/v1",
            key_variable="OPENROUTER_API_KEY",
            key_rule="required",
        ),
        _self_hosted("ollama", "http://127.0.0.1:11434/v1", "OLLAMA_BASE_URL", "OLLAMA_API_KEY"),
        _self_hosted("vllm", "http://127.0.0.1:8000/v1", "VLLM_BASE_URL", "VLLM_API_KEY"),
        _self_hosted(
            "lmstudio", "http://127.0.0.1:1234/v1", "LMSTUDIO_BASE_URL", "LMSTUDIO_API_KEY"
        ),
        _self_hosted(
            "llamacpp", "http://127.0.0.1:8080/v1", "LLAMACPP_BASE_URL", "LLAMACPP_API_KEY"
        ),
        # SmolLM2's training context; a small model stays on task far better near greedy.
        Provider(
            "local",
            "troupe.llm.local.model:LocalModel",
            endpoint_type="llamacpp",
            context_window=8_192,
            temperature=0.2,
            reads_images=False,
        ),
        Provider(
            "test", "troupe.llm.testing:from_handle", endpoint_type="openai", context_window=32_000
        ),
    )
}


@dataclass(frozen=True)
class Endpoint:
    """Who serves a provider's requests, and how long and how often to ask."""

    provider: str
    base_url: str | None
    api_key: str
    timeout_s: float
    max_retries: int


def endpoint_for(prefix: str) -> Endpoint:
    """The endpoint of a provider with a server (not `local/` or `test/`), from the
    environment as it is now; fails, saying what to set, when a needed key is missing."""
    provider = PROVIDERS[prefix]
    variables = ProviderVariables()
    own_base_url = _read(variables, provider.base_url_variable) or None
    key = stored_keys.key_for(prefix) or _read(variables, provider.key_variable)
    if not key and _needs_key(provider, own_base_url):
        raise ModelNotConfigured(
            f"set {provider.key_variable} to use {prefix}/... models (or store a key: "
            f"POST /v1/providers with name {prefix!r})"
        )
    settings = ModelSettings()
    return Endpoint(
        prefix,
        own_base_url or provider.default_base_url,
        key or "not-needed",
        settings.model_timeout,
        settings.model_max_retries,
    )


def _needs_key(provider: Provider, own_base_url: str | None) -> bool:
    if provider.key_rule == "unless_base_url":
        return own_base_url is None
    return provider.key_rule == "required"


def _read(variables: ProviderVariables, name: str | None) -> str:
    return variables.value(name) if name else ""
