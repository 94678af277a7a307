"""/v1/jobs: Letta's older name for runs, as the 0.1.x SDK still calls them."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.folders import UploadJob
from troupe.schemas.messages import Run
from troupe.server.deps import DatabaseDep, ExecutorDep, JobPageDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import jobs
from troupe.services import runs as service

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("", response_model=list[Run] | list[UploadJob])
async def list_jobs(
    db: DatabaseDep,
    page: JobPageDep,
    agent_ids: Annotated[list[str] | None, Query(alias="agent_id")] = None,
    source_id: str | None = None,
) -> Response:
    """Every run, newest first; with `source_id` (0.1.x), that folder's upload jobs, oldest
    first; both paged (`limit`, `after`, `before`, `order`)."""
    return json_response(
        await jobs.list_jobs(db, page, agent_ids=agent_ids or [], source_id=source_id)
    )


# Before /{job_id}: "active" is not a job id.
@router.get("/active", response_model=list[Run])
async def list_active_jobs(db: DatabaseDep, page: PageDep) -> Response:
    return json_response(await service.list_runs(db, page, agent_ids=[], statuses=[], active=True))


@router.get("/{job_id}", response_model=Run | UploadJob)
async def retrieve_job(db: DatabaseDep, job_id: str) -> Response:
    """A run, or the job of a file upload (`job-...`)."""
    return json_response(await jobs.get_job(db, job_id))


@router.delete("/{job_id}", response_model=Run)
async def delete_job(executor: ExecutorDep, job_id: str) -> Response:
    """As DELETE /v1/runs/{id}: a job still going is cancelled; an ended one is deleted."""
    return json_response(await service.delete_run(executor, job_id))
