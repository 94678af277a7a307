"""Taking over the work of a dead process (PostgreSQL, several processes). Every second each
process asks which of the processes recorded as executing runs or holding deliveries are
dead (troupe.store.process_liveness); their work is made overdue at once and recovered as a
stale heartbeat or a run out lease would be, so a survivor carries it on within a few
seconds of the death instead of after the 30 s lease. A slow but live process keeps its own."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from troupe.store.db import Database
from troupe.store.process_liveness import ProcessLiveness, owners_at_work, release_work_of

log = logging.getLogger("troupe.runs")


class Takeover:
    def __init__(
        self,
        db: Database,
        liveness: ProcessLiveness,
        recover: Callable[[], Awaitable[None]],
        every_s: float = 1.0,
    ) -> None:
        self.db = db
        self.liveness = liveness
        self.recover = recover  # runs the usual recovery of runs and deliveries
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.check()  # a restarted process takes over its former self's work at once
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """Last, once this process runs nothing: others may take over from here on."""
        await self.liveness.close()

    async def check(self) -> None:
        async with self.db.read() as session:
            owners = await owners_at_work(session)
        dead = await self.liveness.dead(owners)
        if not dead:
            return
        log.warning("taking over the work of dead process(es) %s", ", ".join(sorted(dead)))
        async with self.db.write() as session:
            await release_work_of(session, dead)
        await self.recover()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.check()
            except Exception:  # the next round tries again
                log.exception("checking for dead processes failed")
