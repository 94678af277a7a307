"""An agent's folders (1.x `folders`, 0.1.x `sources`) and the files it sees."""

from typing import Any

from fastapi import Response

from troupe.schemas.agents import AgentState
from troupe.schemas.folders import AgentFilesPage, Folder
from troupe.server.deps import AgentFilesPageDep, AttachedPageDep, DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import agent_files as service

router = APIRouter(prefix="/v1/agents/{agent_id}", tags=["agents"])


@router.get("/folders", response_model=list[Folder])
@router.get("/sources", response_model=list[Folder])
async def list_agent_folders(db: DatabaseDep, agent_id: str, page: AttachedPageDep) -> Response:
    return json_response(await service.folders_of_agent(db, agent_id, page))


@router.patch("/folders/attach/{folder_id}", response_model=AgentState)
@router.patch("/sources/attach/{folder_id}", response_model=AgentState)
async def attach_folder(db: DatabaseDep, agent_id: str, folder_id: str) -> Response:
    """Attach the folder: its files appear in the agent's context (opened while the budget
    allows) and the agent gets the file tools."""
    return json_response(await service.attach_folder(db, agent_id, folder_id))


@router.patch("/folders/detach/{folder_id}", response_model=AgentState)
@router.patch("/sources/detach/{folder_id}", response_model=AgentState)
async def detach_folder(db: DatabaseDep, agent_id: str, folder_id: str) -> Response:
    """Detach the folder and its files; with no folder left, the file tools go too."""
    return json_response(await service.detach_folder(db, agent_id, folder_id))


@router.get("/files", response_model=AgentFilesPage)
async def list_agent_files(
    db: DatabaseDep, agent_id: str, page: AgentFilesPageDep, is_open: bool | None = None
) -> Response:
    return json_response(await service.files_page_of_agent(db, agent_id, page, is_open=is_open))


@router.patch("/files/close-all", response_model=list[str])
async def close_all_files(db: DatabaseDep, agent_id: str) -> list[str]:
    """Close every open file; the names of those closed."""
    return await service.close_all_files(db, agent_id)


@router.patch("/files/{file_id}/open", response_model=list[str])
async def open_file(db: DatabaseDep, agent_id: str, file_id: str) -> list[str]:
    """Open the file in the agent's context; the names of files closed to make room."""
    return await service.open_agent_file(db, agent_id, file_id)


@router.patch("/files/{file_id}/close")
async def close_file(db: DatabaseDep, agent_id: str, file_id: str) -> dict[str, Any]:
    return {"message": await service.close_agent_file(db, agent_id, file_id)}
