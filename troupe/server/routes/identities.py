"""/v1/identities (0.1.x, letta-client up to 1.7), and an agent's identities (1.x)."""

from typing import Annotated, Any

from fastapi import Body, Query, Response

from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block
from troupe.schemas.identities import (
    Identity,
    IdentityCreate,
    IdentityProperty,
    IdentityType,
    IdentityUpdate,
)
from troupe.schemas.search_limits import MAX_NAME_FILTER_CHARS
from troupe.server.deps import DatabaseDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import identities as service
from troupe.store.identities import IdentityFilter

router = APIRouter(tags=["identities"])


@router.get("/v1/identities", response_model=list[Identity])
async def list_identities(
    db: DatabaseDep,
    page: PageDep,
    name: Annotated[str | None, Query(max_length=MAX_NAME_FILTER_CHARS)] = None,
    project_id: str | None = None,
    identifier_key: str | None = None,
    identity_type: IdentityType | None = None,
) -> Response:
    """Identities, newest first unless `order=asc`; `name` matches part of the name."""
    filters = IdentityFilter(
        name_contains=name,
        project_id=project_id,
        identifier_key=identifier_key,
        identity_type=identity_type,
    )
    return json_response(await service.list_identities(db, page, filters))


@router.post("/v1/identities", response_model=Identity)
async def create_identity(db: DatabaseDep, body: IdentityCreate) -> Response:
    """409 if the key is taken in the project."""
    return json_response(await service.create_identity(db, body))


@router.put("/v1/identities", response_model=Identity)
async def upsert_identity(db: DatabaseDep, body: IdentityCreate) -> Response:
    """The identity with this `identifier_key` (and `project_id`) as given, or a new one."""
    return json_response(await service.upsert_identity(db, body))


@router.get("/v1/identities/count", response_model=int)
async def count_identities(db: DatabaseDep) -> int:
    """How many identities there are (Letta's route; declared before `/{identity_id}`)."""
    return await service.count_identities(db)


@router.get("/v1/identities/{identity_id}", response_model=Identity)
async def retrieve_identity(db: DatabaseDep, identity_id: str) -> Response:
    return json_response(await service.get_identity(db, identity_id))


@router.patch("/v1/identities/{identity_id}", response_model=Identity)
async def modify_identity(db: DatabaseDep, identity_id: str, body: IdentityUpdate) -> Response:
    """Properties merge by key; `agent_ids` and `block_ids` are added to the links."""
    return json_response(await service.update_identity(db, identity_id, body))


@router.delete("/v1/identities/{identity_id}")
async def delete_identity(db: DatabaseDep, identity_id: str) -> dict[str, Any]:
    """The identity; its agents and blocks stay."""
    await service.delete_identity(db, identity_id)
    return {"message": f"identity {identity_id} deleted"}


@router.put("/v1/identities/{identity_id}/properties", response_model=Identity)
async def replace_properties(
    db: DatabaseDep, identity_id: str, body: Annotated[list[IdentityProperty], Body()]
) -> Response:
    """The identity's properties become exactly these."""
    return json_response(await service.replace_properties(db, identity_id, body))


@router.get("/v1/identities/{identity_id}/agents", response_model=list[AgentState])
async def list_identity_agents(db: DatabaseDep, identity_id: str, page: PageDep) -> Response:
    return json_response(await service.list_identity_agents(db, identity_id, page))


@router.get("/v1/identities/{identity_id}/blocks", response_model=list[Block])
async def list_identity_blocks(db: DatabaseDep, identity_id: str, page: PageDep) -> Response:
    return json_response(await service.list_identity_blocks(db, identity_id, page))


@router.patch("/v1/agents/{agent_id}/identities/attach/{identity_id}", response_model=AgentState)
async def attach_identity(db: DatabaseDep, agent_id: str, identity_id: str) -> Response:
    return json_response(await service.link_agent(db, agent_id, identity_id, linked=True))


@router.patch("/v1/agents/{agent_id}/identities/detach/{identity_id}", response_model=AgentState)
async def detach_identity(db: DatabaseDep, agent_id: str, identity_id: str) -> Response:
    return json_response(await service.link_agent(db, agent_id, identity_id, linked=False))
