"""/v1/archives: archival memory shared by agents; attaching one to an agent; and
/v1/passages/search across archives."""

from typing import Annotated, Any

from fastapi import Query as QueryParam
from fastapi import Response

from troupe.schemas.passages import (
    Archive,
    ArchiveCreate,
    ArchiveUpdate,
    Passage,
    PassageBatch,
    PassageCreate,
    PassageSearch,
    PassageSearchItem,
)
from troupe.server.deps import MAX_PAGE, DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import archives as service
from troupe.store.paging import Order, Page

router = APIRouter(tags=["archives"])


@router.post("/v1/archives", response_model=Archive)
async def create_archive(db: DatabaseDep, body: ArchiveCreate) -> Response:
    """An empty archive; its embedding (default: the embedded model) embeds its passages."""
    return json_response(await service.create_archive(db, body))


@router.get("/v1/archives", response_model=list[Archive])
async def list_archives(
    db: DatabaseDep,
    limit: Annotated[int, QueryParam(ge=1, le=MAX_PAGE)] = 50,
    after: str | None = None,
    before: str | None = None,
    order: Order = "desc",
    name: str | None = None,
    agent_id: str | None = None,
) -> Response:
    page = Page(limit=limit, after=after, before=before, order=order)
    return json_response(await service.list_archives(db, page, name=name, agent_id=agent_id))


@router.get("/v1/archives/{archive_id}", response_model=Archive)
async def retrieve_archive(db: DatabaseDep, archive_id: str) -> Response:
    return json_response(await service.get_archive(db, archive_id))


@router.patch("/v1/archives/{archive_id}", response_model=Archive)
async def modify_archive(db: DatabaseDep, archive_id: str, body: ArchiveUpdate) -> Response:
    return json_response(await service.update_archive(db, archive_id, body))


@router.delete("/v1/archives/{archive_id}", status_code=204)
async def delete_archive(db: DatabaseDep, archive_id: str) -> Response:
    """The archive and its passages; agents it was attached to keep their other archives."""
    await service.delete_archive(db, archive_id)
    return Response(status_code=204)


@router.post("/v1/archives/{archive_id}/passages", response_model=Passage)
async def create_passage(db: DatabaseDep, archive_id: str, body: PassageCreate) -> Response:
    (passage,) = await service.add_passages(db, archive_id, [body])
    return json_response(passage)


@router.post("/v1/archives/{archive_id}/passages/batch", response_model=list[Passage])
async def create_passages(db: DatabaseDep, archive_id: str, body: PassageBatch) -> Response:
    """Embedded in batches and stored in one transaction: all or none."""
    return json_response(await service.add_passages(db, archive_id, body.passages))


@router.delete("/v1/archives/{archive_id}/passages/{passage_id}", status_code=204)
async def delete_passage(db: DatabaseDep, archive_id: str, passage_id: str) -> Response:
    await service.delete_passage(db, archive_id, passage_id)
    return Response(status_code=204)


@router.patch("/v1/agents/{agent_id}/archives/attach/{archive_id}")
async def attach_archive(db: DatabaseDep, agent_id: str, archive_id: str) -> dict[str, Any]:
    """The agent searches the archive from now on (409 if it embeds with another model)."""
    await service.attach(db, agent_id, archive_id)
    return {"message": f"archive {archive_id} attached to agent {agent_id}"}


@router.patch("/v1/agents/{agent_id}/archives/detach/{archive_id}")
async def detach_archive(db: DatabaseDep, agent_id: str, archive_id: str) -> dict[str, Any]:
    await service.detach(db, agent_id, archive_id)
    return {"message": f"archive {archive_id} detached from agent {agent_id}"}


@router.post("/v1/passages/search", response_model=list[PassageSearchItem])
async def search_passages(db: DatabaseDep, body: PassageSearch) -> Response:
    return json_response(await service.search(db, body))
