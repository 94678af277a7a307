"""Which models this server can run now: the embedded ones always, and each configured
provider's, read from the provider's own model list (`GET /v1/models`) where it has one.
A provider that does not answer is left out, not an error."""

import asyncio
import importlib.util
import logging
from dataclasses import dataclass

from troupe.llm.embeddings import DEFAULT_EMBEDDING, config_for_handle
from troupe.llm.embeddings.resolve import EMBEDDING_PROVIDERS
from troupe.llm.handles import DEFAULT_MODEL, llm_config_for
from troupe.llm.providers import Endpoint, endpoint_for
from troupe.llm.warm import configured_providers
from troupe.schemas.common import EmbeddingConfig, LLMConfig

log = logging.getLogger("troupe.llm")
LIST_TIMEOUT_S = 5.0
# Words in a model id that say it is not a chat model (OpenAI lists them all together).
NOT_CHAT = ("embed", "tts", "whisper", "dall-e", "image", "audio", "moderation", "transcribe")


@dataclass(frozen=True)
class Listed:
    provider: str
    model: str


async def chat_models() -> list[LLMConfig]:
    """The `llm_config` of every chat model handle this server can run now."""
    found = [llm_config_for(DEFAULT_MODEL)] if _embedded_model_installed() else []
    for listed in await _provider_models():
        if not any(word in listed.model.lower() for word in NOT_CHAT):
            found.append(llm_config_for(f"{listed.provider}/{listed.model}"))
    return found


async def embedding_models() -> list[EmbeddingConfig]:
    """The `embedding_config` of every embedding handle this server can run now."""
    found = [config_for_handle(DEFAULT_EMBEDDING)]
    for listed in await _provider_models():
        if listed.provider in EMBEDDING_PROVIDERS and "embed" in listed.model.lower():
            found.append(config_for_handle(f"{listed.provider}/{listed.model}"))
    return found


async def _provider_models() -> list[Listed]:
    providers = list(configured_providers())  # those with a key or base URL set
    lists = await asyncio.gather(*(_list(p) for p in providers))
    return [Listed(p, m) for p, models in zip(providers, lists, strict=True) for m in models]


async def _list(provider: str) -> list[str]:
    try:
        endpoint = endpoint_for(provider)
        if provider == "anthropic":
            return await _anthropic_models(endpoint)
        return await _openai_models(endpoint)
    except Exception as exc:  # a provider that cannot list its models now is left out
        log.info("models of %s not listed: %s", provider, exc)
        return []


async def _openai_models(endpoint: Endpoint) -> list[str]:
    from troupe.llm.openai_compat import shared_client

    page = await shared_client(endpoint).with_options(timeout=LIST_TIMEOUT_S).models.list()
    return sorted(model.id for model in page.data)


async def _anthropic_models(endpoint: Endpoint) -> list[str]:
    from troupe.llm.anthropic import shared_client

    page = await shared_client(endpoint).with_options(timeout=LIST_TIMEOUT_S).models.list()
    return sorted(model.id for model in page.data)


def _embedded_model_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None
