"""/v1/blocks: memory blocks on their own, shared or not."""

from typing import Any

from fastapi import APIRouter, Response

from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block, BlockCreate, BlockUpdate
from troupe.server.deps import DatabaseDep, PageDep
from troupe.server.responses import json_response
from troupe.services import blocks as service

router = APIRouter(prefix="/v1/blocks", tags=["blocks"])


@router.post("", response_model=Block)
async def create_block(db: DatabaseDep, body: BlockCreate) -> Response:
    return json_response(await service.create_block(db, body))


@router.get("", response_model=list[Block])
async def list_blocks(
    db: DatabaseDep, page: PageDep, label: str | None = None, name: str | None = None
) -> Response:
    return json_response(await service.list_blocks(db, page, label=label, name=name))


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
