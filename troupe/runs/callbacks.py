"""Letta's run callback: when a run that names a `callback_url` ends, troupe POSTs the run's
outcome there, once, and keeps how that went on the run (`callback_sent_at`,
`callback_status_code`, `callback_error`). A run that ended while its process went down is
called back by whichever process looks next."""

import logging
from datetime import timedelta

import httpx

from troupe.runs.run_metadata import shown_metadata
from troupe.store import Database
from troupe.store import run_callbacks as store
from troupe.store.runs import get_run
from troupe.store.tables import RunRow, utcnow

log = logging.getLogger("troupe.runs")


def payload(run: RunRow) -> dict[str, object]:
    """What the callback receives: Letta's job callback (`job_id`, `status`, `completed_at`,
    `metadata`, holding why the run failed under `error`) with the run's own names beside it."""
    completed = run.completed_at.isoformat() if run.completed_at else None
    return {
        "job_id": run.id,
        "run_id": run.id,
        "agent_id": run.agent_id,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "completed_at": completed,
        "metadata": shown_metadata(run) or {},
    }


class RunCallbacks:
    def __init__(self, db: Database, *, timeout_s: float = 10.0) -> None:
        self.db = db
        self.timeout_s = timeout_s
        # Made at the first callback: most servers never send one, and a client's TLS
        # context costs start-up time and memory (and its close, the stop's).
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def send(self, run_id: str) -> None:
        async with self.db.write() as session:
            if not await store.claim(session, run_id, utcnow()):
                return
            run = await get_run(session, run_id)
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(run.callback_url or "", json=payload(run))
            status_code = response.status_code
            if response.is_error:
                error = f"the callback answered HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("callback of run %s: %s", run_id, error)
        async with self.db.write() as session:
            await store.record_outcome(session, run_id, status_code, error)

    async def send_overdue(self, grace_s: float) -> None:
        """Callbacks of runs that ended more than `grace_s` ago and were never sent."""
        async with self.db.read() as session:
            overdue = await store.unsent(session, utcnow() - timedelta(seconds=grace_s), 100)
        for run in overdue:
            await self.send(run.id)
