"""/v1/blocks: memory blocks on their own, shared or not."""

from typing import Annotated, Any

from fastapi import Query, Response

from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block, BlockCreate, BlockUpdate
from troupe.server.deps import DatabaseDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import blocks as service
from troupe.store.blocks import BlockFilter

router = APIRouter(prefix="/v1/blocks", tags=["blocks"])


@router.post("", response_model=Block)
async def create_block(db: DatabaseDep, body: BlockCreate) -> Response:
    return json_response(await service.create_block(db, body))


@router.get("", response_model=list[Block])
async def list_blocks(
    db: DatabaseDep,
    page: PageDep,
    label: str | None = None,
    name: str | None = None,
    label_search: str | None = None,
    value_search: str | None = None,
    description_search: str | None = None,
    templates_only: bool = False,
    connected_to_agents_count_eq: Annotated[list[int] | None, Query()] = None,
    connected_to_agents_count_gt: int | None = None,
    connected_to_agents_count_lt: int | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
    identity_id: str | None = None,
    identifier_keys: Annotated[list[str] | None, Query()] = None,
    project_id: str | None = None,
) -> Response:
    """Blocks narrowed by every filter given: `label`/`name` exact, the `*_search` a
    case-insensitive part, `templates_only`, how many agents hold the block, and the identity
    it is linked to (`identity_id`, or one of `identifier_keys`). `tags` and `project_id` are
    refused (422), not ignored."""
    filters = BlockFilter(
        label=label,
        name=name,
        label_contains=label_search or None,
        value_contains=value_search or None,
        description_contains=description_search or None,
        templates_only=templates_only,
        agent_count_in=connected_to_agents_count_eq or (),
        agent_count_above=connected_to_agents_count_gt,
        agent_count_below=connected_to_agents_count_lt,
        identity_id=identity_id,
        identifier_keys=identifier_keys or (),
    )
    unsupported = {
        "tags": tags,
        "project_id": project_id,
    }
    return json_response(await service.list_blocks(db, page, filters, unsupported))


@router.get("/{block_id}", response_model=Block)
async def retrieve_block(db: DatabaseDep, block_id: str) -> Response:
    return json_response(await service.get_block(db, block_id))


@router.patch("/{block_id}", response_model=Block)
async def modify_block(db: DatabaseDep, block_id: str, body: BlockUpdate) -> Response:
    """Change a block. With `expected_version`, only if nobody changed it since (else 409)."""
    return json_response(await service.update_block(db, block_id, body))


@router.delete("/{block_id}")
async def delete_block(db: DatabaseDep, block_id: str) -> dict[str, Any]:
    await service.delete_block(db, block_id)
    return {"message": f"block {block_id} deleted"}


@router.get("/{block_id}/agents", response_model=list[AgentState])
async def list_block_agents(db: DatabaseDep, block_id: str, page: PageDep) -> Response:
    """The agents holding the block, newest first unless `order=asc`; paged like every list."""
    return json_response(await service.agents_of_block(db, block_id, page))
