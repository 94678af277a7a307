"""/v1/models: what this server can run now (both SDK lines)."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.models import EmbeddingEntry, ModelEntry
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import models as service

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=list[ModelEntry])
async def list_models(
    provider_name: str | None = None,
    provider_type: str | None = None,
    provider_category: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The embedded model, and each configured provider's chat models (from its own list),
    narrowed by `provider_name`, `provider_type` and `provider_category` (any of those)."""
    return json_response(
        await service.list_models(provider_name, provider_type, provider_category or [])
    )


@router.get("/embedding", response_model=list[EmbeddingEntry])
async def list_embedding_models() -> Response:
    """The embedded embedder, and each configured provider's embedding models."""
    return json_response(await service.list_embedding_models())
