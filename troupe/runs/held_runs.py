"""Background runs held back while their agent waits for an approval, and their release once
the approval is answered or cancelled."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from troupe.store import Database
from troupe.store import runs as run_store
from troupe.store.tables import RunRow

log = logging.getLogger("troupe.runs")


class HeldRuns:
    """A background run (a scheduled message, an async request) that found its agent waiting
    for approval takes no message now: it waits, "created" again, with the stop reason
    `requires_approval` saying what for, and runs once the approval is answered or
    cancelled (when the agent's next turn ends, on any process sharing the database; at
    the latest at the maintenance round's recovery of created runs)."""

    def __init__(
        self,
        db: Database,
        submit: Callable[[RunRow], None],
        spawn: Callable[[Awaitable[Any]], object],
        *,
        single_process: bool,
    ) -> None:
        self.db = db
        self.submit = submit
        self.spawn = spawn
        self.single_process = single_process
        self._held: dict[str, dict[str, RunRow]] = {}  # by agent, by run id

    async def hold(self, run: RunRow) -> None:
        async with self.db.write() as session:
            await run_store.hold_run(session, run.id, "requires_approval")
        self._held.setdefault(run.agent_id, {})[run.id] = run

    def release(self, agent_id: str, *, everywhere: bool = False) -> None:
        """Submit the agent's runs held for its approval: those this process held, and,
        `everywhere` (the approval was answered or cancelled), those other processes sharing
        the database held, which would otherwise wait for the recovery of created runs
        (`TROUPE_RUN_STALE_AFTER` after their creation). A run submitted twice is claimed once."""
        released = self._held.pop(agent_id, {})
        for run in released.values():
            self.submit(run)
        if everywhere and not self.single_process:
            self.spawn(self._release_elsewhere(agent_id, set(released)))

    async def _release_elsewhere(self, agent_id: str, submitted: set[str]) -> None:
        try:
            async with self.db.read() as session:
                held = await run_store.held_runs(session, agent_id)
        except Exception:  # the recovery of created runs still runs them, later
            log.exception("could not read the runs held for agent %s", agent_id)
            return
        for run in held:
            if run.id not in submitted:
                self.submit(run)
