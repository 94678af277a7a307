"""Telling readers of a run's stream that it moved on (stored a step, or ended), so they read
the store again at once instead of at their next poll. Within a process, an event per
reader; across processes sharing PostgreSQL, a NOTIFY that every process hears (for
background runs: the ones read from other processes)."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from troupe.store import notices
from troupe.store.db import Database

CHANNEL = "troupe_run_progress"


class RunProgress:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._readers: dict[str, set[asyncio.Event]] = {}
        self._listening: notices.Listening | None = None

    async def start(self) -> None:
        if not self.db.is_sqlite:
            self._listening = await notices.listen(self.db, CHANNEL, self._on_notice)

    async def stop(self) -> None:
        if self._listening is not None:
            await self._listening.close()
            self._listening = None

    @contextmanager
    def watching(self, run_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the run moves on; the reader clears it before reading."""
        event = asyncio.Event()
        self._readers.setdefault(run_id, set()).add(event)
        try:
            yield event
        finally:
            readers = self._readers.get(run_id, set())
            readers.discard(event)
            if not readers:
                self._readers.pop(run_id, None)

    async def announce(self, run_id: str, *, other_processes: bool) -> None:
        """The run stored something new; tell this process's readers, and with
        `other_processes` (on PostgreSQL) every other process's too."""
        self.poke(run_id)
        if other_processes and not self.db.is_sqlite:
            async with self.db.write() as session:
                await notices.notify(session, CHANNEL, run_id)

    def poke(self, run_id: str) -> None:
        for event in self._readers.get(run_id, ()):
            event.set()

    def _on_notice(self, payload: str) -> None:
        self.poke(payload)
