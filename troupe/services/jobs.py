"""Jobs, Letta's older word: a run, or the job of a file upload (0.1.x reads both)."""

from troupe.schemas.folders import UploadJob
from troupe.schemas.messages import Run
from troupe.services import folders, runs
from troupe.store import Database
from troupe.store.paging import Page


async def list_jobs(
    db: Database, page: Page, *, agent_ids: list[str], source_id: str | None
) -> list[Run] | list[UploadJob]:
    """Runs, newest first; with 0.1.x's `source_id`, only that folder's upload jobs (Letta's
    "only list jobs associated with the source"), paged the same way."""
    if source_id is not None:
        return await folders.upload_jobs(db, source_id, page)
    return await runs.list_runs(db, page, agent_ids=agent_ids, statuses=[])


async def get_job(db: Database, job_id: str) -> Run | UploadJob:
    if job_id.startswith("job-"):  # upload jobs' ids; runs are `run-...`
        return await folders.get_upload_job(db, job_id)
    return await runs.get_run(db, job_id)
