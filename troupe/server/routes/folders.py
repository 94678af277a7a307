"""/v1/folders (1.x) and /v1/sources (0.1.x, the older spelling, served by the same
handlers): folders, their files (multipart upload) and the agents using them."""

from typing import Annotated, Any

from fastapi import Depends, File, Query, Request, Response, UploadFile

from troupe.schemas.folders import (
    DuplicateHandling,
    FileMetadata,
    Folder,
    FolderCreate,
    FolderUpdate,
)
from troupe.server.deps import DatabaseDep, FolderFilesPageDep, PageDep, SourceFilesPageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import agent_files
from troupe.services import folders as service
from troupe.services.folder_views import file_view
from troupe.services.folders import FileIntake, Upload
from troupe.store.db import Database

router = APIRouter(prefix="/v1", tags=["folders"])


async def get_intake(request: Request) -> FileIntake:
    intake: FileIntake | None = getattr(request.app.state.services, "file_intake", None)
    return intake or FileIntake(max_bytes=request.app.state.settings.max_file_bytes)


IntakeDep = Annotated[FileIntake, Depends(get_intake)]


async def read_upload(
    db: Database,
    intake: FileIntake,
    folder_id: str,
    file: UploadFile,
    duplicate_handling: DuplicateHandling,
    name: str | None,
) -> Any:
    """Read the upload (one byte past the limit at most) and hand it to the service."""
    data = await file.read(intake.max_bytes + 1)
    upload = Upload(name or file.filename or "", data, file.content_type, duplicate_handling)
    return await service.upload_file(db, intake, folder_id, upload)


@router.post("/folders", response_model=Folder)
@router.post("/sources", response_model=Folder)
async def create_folder(db: DatabaseDep, body: FolderCreate) -> Response:
    """Create a folder; 409 if one has the name already."""
    return json_response(await service.create_folder(db, body))


@router.get("/folders", response_model=list[Folder])
@router.get("/sources", response_model=list[Folder])
async def list_folders(db: DatabaseDep, page: PageDep, name: str | None = None) -> Response:
    return json_response(await service.list_folders(db, page, name=name))


@router.get("/folders/{folder_id}", response_model=Folder)
@router.get("/sources/{folder_id}", response_model=Folder)
async def retrieve_folder(db: DatabaseDep, folder_id: str) -> Response:
    return json_response(await service.get_folder(db, folder_id))


@router.patch("/folders/{folder_id}", response_model=Folder)
@router.patch("/sources/{folder_id}", response_model=Folder)
async def modify_folder(db: DatabaseDep, folder_id: str, body: FolderUpdate) -> Response:
    return json_response(await service.update_folder(db, folder_id, body))


@router.delete("/folders/{folder_id}")
@router.delete("/sources/{folder_id}")
async def delete_folder(db: DatabaseDep, folder_id: str) -> dict[str, Any]:
    """The folder, its files and passages; agents lose its files (and, with no folder left,
    the file tools)."""
    await service.delete_folder(db, folder_id)
    return {"message": f"folder {folder_id} deleted"}


@router.post("/folders/{folder_id}/upload", response_model=FileMetadata)
async def upload_file(
    db: DatabaseDep,
    intake: IntakeDep,
    folder_id: str,
    file: Annotated[UploadFile, File()],
    duplicate_handling: DuplicateHandling = "suffix",
    name: Annotated[str | None, Query(max_length=255)] = None,
) -> Response:
    """Upload a text, Markdown, JSON, CSV, HTML or PDF file: parsed, chunked and embedded
    before the answer (its `processing_status` is then `completed`). A file of another
    type gets 415, one that cannot be read 422, one over the size limit 413; none of them
    leaves anything stored."""
    row = await read_upload(db, intake, folder_id, file, duplicate_handling, name)
    return json_response(file_view(row))


@router.get("/folders/{folder_id}/files", response_model=list[FileMetadata])
async def list_files(
    db: DatabaseDep, folder_id: str, page: FolderFilesPageDep, include_content: bool = False
) -> Response:
    """A folder's files, newest first unless `order=asc`."""
    files = await service.list_files(db, folder_id, page, include_content=include_content)
    return json_response(files)


@router.get("/sources/{folder_id}/files", response_model=list[FileMetadata])
async def list_source_files(
    db: DatabaseDep, folder_id: str, page: SourceFilesPageDep, include_content: bool = False
) -> Response:
    """A folder's files in 0.1.x's order: oldest first unless `order=desc`."""
    files = await service.list_files(db, folder_id, page, include_content=include_content)
    return json_response(files)


@router.get("/folders/{folder_id}/files/{file_id}", response_model=FileMetadata)
async def retrieve_file(
    db: DatabaseDep, folder_id: str, file_id: str, include_content: bool = False
) -> Response:
    file = await service.get_file(db, folder_id, file_id, include_content=include_content)
    return json_response(file)


@router.delete("/folders/{folder_id}/{file_id}", status_code=204)
@router.delete("/sources/{folder_id}/{file_id}", status_code=204)
async def delete_file(db: DatabaseDep, folder_id: str, file_id: str) -> Response:
    await service.delete_file(db, folder_id, file_id)
    return Response(status_code=204)


@router.get("/folders/{folder_id}/agents", response_model=list[str])
async def list_folder_agents(db: DatabaseDep, folder_id: str) -> list[str]:
    """The ids of the agents the folder is attached to."""
    return await agent_files.agents_of_folder(db, folder_id)
