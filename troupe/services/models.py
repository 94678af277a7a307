"""The models and embeddings this server can run now."""

from collections.abc import Sequence

from troupe.llm import catalog
from troupe.schemas.models import EmbeddingEntry, ModelEntry


async def list_models(
    provider_name: str | None = None,
    provider_type: str | None = None,
    provider_categories: Sequence[str] = (),
) -> list[ModelEntry]:
    """The chat models, narrowed by every filter given (categories: any of them)."""
    entries = []
    for config in await catalog.chat_models():
        handle = config.handle or config.model
        provider = handle.partition("/")[0]
        entries.append(
            ModelEntry(
                **config.model_dump(),
                name=config.model,
                display_name=handle,
                max_context_window=config.context_window,
                provider_name=provider,
                provider_type=config.model_endpoint_type,
            )
        )
    return [
        e
        for e in entries
        if provider_name in (None, e.provider_name)
        and provider_type in (None, e.provider_type)
        and (not provider_categories or e.provider_category in provider_categories)
    ]


async def list_embedding_models() -> list[EmbeddingEntry]:
    entries = []
    for config in await catalog.embedding_models():
        handle = config.handle or config.embedding_model
        entries.append(
            EmbeddingEntry(
                **config.model_dump(),
                name=config.embedding_model,
                display_name=handle,
                provider_name=handle.partition("/")[0],
                provider_type=config.embedding_endpoint_type,
            )
        )
    return entries
