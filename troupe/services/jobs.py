"""Jobs, Letta's older word: a run, or the job of a file upload (0.1.x reads both)."""

from troupe.schemas.folders import UploadJob
from troupe.schemas.messages import Run
from troupe.services import folders, runs
from troupe.store import Database


async def get_job(db: Database, job_id: str) -> Run | UploadJob:
    if job_id.startswith("job-"):  # upload jobs' ids; runs are `run-...`
        return await folders.get_upload_job(db, job_id)
    return await runs.get_run(db, job_id)
