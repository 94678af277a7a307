"""WAL checkpoints on a thread of their own instead of inside a message's commit.

SQLite's automatic checkpoint runs in the commit that takes the WAL past 1000 pages: every
60 or so messages one commit copies the WAL into the database file and syncs both, a few
milliseconds with the event loop blocked (troupe runs SQLite on the loop, see
sqlite_inline). Here the writer's commits are counted, and every `EVERY_COMMITS` a PASSIVE
checkpoint runs on a worker thread over a connection of its own; SQLite releases the GIL
while it copies and syncs, so the loop goes on. A PASSIVE checkpoint takes no lock that
readers or the writer wait for; the writer starts the WAL over at its next transaction once
the checkpoint has copied everything.

Durability is unchanged: a commit is in the WAL, synced as before (synchronous=NORMAL syncs
the WAL when it is checkpointed, as the automatic checkpoint did), whichever connection
checkpoints. SQLite's own automatic checkpoint stays on the writer at `BACKSTOP_PAGES`, far
above what the counted checkpoints let the WAL reach, in case the worker falls behind.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

EVERY_COMMITS = 50  # about 12 pages a message commit: near SQLite's default 1000 pages
BACKSTOP_PAGES = 10_000


class WalCheckpoints:
    """Checkpoints one SQLite database file every `every` commits, off the loop thread."""

    def __init__(self, driver: Any, path: str, *, synchronous: str, every: int = EVERY_COMMITS):
        self._driver = driver
        self._path = path
        self._synchronous = synchronous
        self._every = every
        self._commits = 0
        self._running = False
        self._closed = False
        self._lock = threading.Lock()  # the worker's connection: used, or closed, by one
        self._connection: Any = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-checkpoint")

    def committed(self) -> None:
        """Called after each commit of the writer (on the loop thread)."""
        self._commits += 1
        if self._commits >= self._every and not self._running and not self._closed:
            self._commits = 0
            self._running = True
            self._worker.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            with self._lock:
                if self._closed:
                    return
                if self._connection is None:
                    self._connection = self._open()
                self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except self._driver.Error:
            pass  # busy (another checkpoint runs) or gone: the next one, or the backstop
        finally:
            self._running = False

    def _open(self) -> Any:
        # Closed from the loop thread at shutdown (under `_lock`, never while in use).
        connection = self._driver.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        return connection

    def close(self) -> None:
        """Wait for a running checkpoint and close the worker's connection."""
        self._closed = True
        self._worker.shutdown(wait=True)
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
