"""/v1/providers (0.1.x): model providers; keys are write-only."""

from typing import Any

from fastapi import Response

from troupe.schemas.providers import Provider, ProviderCreate, ProviderUpdate
from troupe.server.deps import DatabaseDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import providers as service

router = APIRouter(prefix="/v1/providers", tags=["providers"])


@router.get("", response_model=list[Provider])
async def list_providers(db: DatabaseDep, page: PageDep) -> Response:
    """Those the environment configures (`source: environment`), then those set here."""
    return json_response(await service.list_providers(db, page))


@router.post("", response_model=Provider)
async def create_provider(db: DatabaseDep, body: ProviderCreate) -> Response:
    return json_response(await service.create_provider(db, body))


@router.patch("", response_model=Provider)
async def modify_provider(db: DatabaseDep, body: ProviderUpdate) -> Response:
    return json_response(await service.update_provider(db, body))


@router.delete("")
async def delete_provider(db: DatabaseDep, provider_id: str) -> dict[str, Any]:
    await service.delete_provider(db, provider_id)
    return {"message": f"provider {provider_id} deleted"}
