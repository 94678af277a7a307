"""Who serves each provider prefix: base URL and key, from the environment variables people
already use for these services. (The wire format lives in the adapters.)"""

import os
from dataclasses import dataclass

from troupe.llm.base import ModelNotConfigured


@dataclass(frozen=True)
class Endpoint:
    provider: str
    base_url: str | None
    api_key: str
    timeout_s: float
    max_retries: int


# provider -> (base URL variable, default base URL, key variable, key required)
OPENAI_COMPATIBLE: dict[str, tuple[str, str | None, str, bool]] = {
    "openai": ("OPENAI_BASE_URL", None, "OPENAI_API_KEY", True),
    "openrouter": (
        "OPENROUTER_BASE_URL",
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        True,
    ),
    "ollama": ("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY", False),
    "vllm": ("VLLM_BASE_URL", "http://127.0.0.1:8000/v1", "VLLM_API_KEY", False),
    "lmstudio": ("LMSTUDIO_BASE_URL", "http://127.0.0.1:1234/v1", "LMSTUDIO_API_KEY", False),
    "llamacpp": ("LLAMACPP_BASE_URL", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY", False),
}


def _knobs() -> tuple[float, int]:
    return (
        float(os.environ.get("TROUPE_MODEL_TIMEOUT", "120")),
        int(os.environ.get("TROUPE_MODEL_MAX_RETRIES", "3")),
    )


def openai_compatible_endpoint(provider: str) -> Endpoint:
    base_var, default_base, key_var, key_required = OPENAI_COMPATIBLE[provider]
    base_url = os.environ.get(base_var) or default_base
    key = os.environ.get(key_var, "")
    # A self-hosted server behind OPENAI_BASE_URL usually needs no real key.
    if not key and key_required and not (provider == "openai" and base_url):
        raise ModelNotConfigured(f"set {key_var} to use {provider}/... models")
    timeout, retries = _knobs()
    return Endpoint(provider, base_url, key or "not-needed", timeout, retries)


def anthropic_endpoint() -> Endpoint:
    key = os.environ.get("ANTHROPIC_API_KEY", "")
    base_url = os.environ.get("ANTHROPIC_BASE_URL")
    if not key and not base_url:
        raise ModelNotConfigured("set ANTHROPIC_API_KEY to use anthropic/... models")
    timeout, retries = _knobs()
    return Endpoint("anthropic", base_url, key or "not-needed", timeout, retries)
