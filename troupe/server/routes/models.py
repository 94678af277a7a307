"""/v1/models: what this server can run now (both SDK lines)."""

from fastapi import APIRouter, Response

from troupe.schemas.models import EmbeddingEntry, ModelEntry
from troupe.server.responses import json_response
from troupe.services import models as service

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=list[ModelEntry])
async def list_models(provider_name: str | None = None) -> Response:
    """The embedded model, and each configured provider's chat models (from its own list)."""
    return json_response(await service.list_models(provider_name))


@router.get("/embedding", response_model=list[EmbeddingEntry])
async def list_embedding_models() -> Response:
    """The embedded embedder, and each configured provider's embedding models."""
    return json_response(await service.list_embedding_models())
