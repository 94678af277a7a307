"""What only the 0.1.x SDK asks of folders (its `sources`; the routes both spell alike are in
`folders.py`): a folder's id by name, the upload answered with a job, a folder's passages."""

from typing import Annotated

from fastapi import File, Response, UploadFile

from troupe.schemas.folders import (
    FilePassage,
    UploadJob,
)
from troupe.server.deps import DatabaseDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routes.folders import IntakeDep, read_upload
from troupe.server.routing import APIRouter
from troupe.services import folders as service
from troupe.services.folder_views import job_view

router = APIRouter(prefix="/v1", tags=["sources"])


@router.get("/sources/name/{source_name}", response_model=str)
async def source_id_by_name(db: DatabaseDep, source_name: str) -> str:
    return await service.folder_id_by_name(db, source_name)


@router.post("/sources/{source_id}/upload", response_model=UploadJob)
async def upload_to_source(
    db: DatabaseDep, intake: IntakeDep, source_id: str, file: Annotated[UploadFile, File()]
) -> Response:
    """As `POST /v1/folders/{id}/upload`, answered with a job (already completed)."""
    row = await read_upload(db, intake, source_id, file, "suffix", None)
    return json_response(job_view(row))


@router.get("/sources/{source_id}/passages", response_model=list[FilePassage])
async def list_source_passages(db: DatabaseDep, source_id: str, page: PageDep) -> Response:
    return json_response(await service.list_passages(db, source_id, page))
