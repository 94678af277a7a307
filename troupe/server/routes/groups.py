"""/v1/groups: Letta's multi-agent groups (letta-client 0.1.x `client.groups`, and the later
routes of Letta's server), and /v1/agents/{id}/groups."""

from typing import Annotated

from fastapi import APIRouter, Query

from troupe.schemas.groups import Group, GroupCreate, GroupUpdate, ManagerTypeName
from troupe.server.deps import DatabaseDep, PageDep
from troupe.services import groups as service

router = APIRouter(tags=["groups"])


@router.get("/v1/groups", response_model=list[Group])
async def list_groups(
    db: DatabaseDep,
    page: PageDep,
    manager_type: ManagerTypeName | None = None,
    project_id: str | None = None,
    show_hidden_groups: bool = False,
) -> list[Group]:
    """Oldest first unless `order=desc`."""
    return await service.list_groups(
        db,
        page,
        manager_type=manager_type,
        project_id=project_id,
        show_hidden=show_hidden_groups,
    )


@router.get("/v1/groups/count", response_model=int)
async def count_groups(db: DatabaseDep) -> int:
    return await service.count_groups(db)


@router.post("/v1/groups", response_model=Group)
async def create_group(db: DatabaseDep, body: GroupCreate) -> Group:
    return await service.create_group(db, body)


@router.put("/v1/groups", response_model=Group)
async def upsert_group(db: DatabaseDep, body: GroupCreate) -> Group:
    return await service.upsert_group(db, body)


@router.get("/v1/groups/{group_id}", response_model=Group)
async def retrieve_group(db: DatabaseDep, group_id: str) -> Group:
    return await service.get_group(db, group_id)


@router.patch("/v1/groups/{group_id}", response_model=Group)
async def modify_group(db: DatabaseDep, group_id: str, body: GroupUpdate) -> Group:
    return await service.update_group(db, group_id, body)


@router.delete("/v1/groups/{group_id}")
async def delete_group(db: DatabaseDep, group_id: str) -> dict[str, str]:
    await service.delete_group(db, group_id)
    return {"message": f"Group id={group_id} successfully deleted"}


@router.patch("/v1/groups/{group_id}/blocks/attach/{block_id}")
async def attach_block(db: DatabaseDep, group_id: str, block_id: str) -> None:
    """The block is attached to the group and to all its agents."""
    await service.attach_block(db, group_id, block_id)


@router.patch("/v1/groups/{group_id}/blocks/detach/{block_id}")
async def detach_block(db: DatabaseDep, group_id: str, block_id: str) -> None:
    """The block is detached from the group and from all its agents."""
    await service.detach_block(db, group_id, block_id)


@router.get("/v1/agents/{agent_id}/groups", response_model=list[Group])
async def list_agent_groups(
    db: DatabaseDep,
    agent_id: str,
    manager_type: Annotated[ManagerTypeName | None, Query()] = None,
) -> list[Group]:
    """The groups the agent is in, as a member or as their manager."""
    return await service.groups_of_agent(db, agent_id, manager_type)
