"""SQLite for the async engine without a thread per connection.

aiosqlite runs every statement on a worker thread and hands the result back to the event
loop: two thread switches, a self-pipe wake-up and a loop iteration per statement, which on
the hot path (about a dozen statements a message) cost more than SQLite itself. A statement
on a small indexed table takes microseconds, so here the sqlite3 calls run in the event
loop's own thread, behind the same awaitable interface aiosqlite offers, and SQLAlchemy's
aiosqlite dialect is used unchanged on top of it.

What that costs: while SQLite works, the loop waits. troupe is SQLite's only process (one
server a database file), its one writer connection is queued by the pool, and WAL readers
never wait for it, so the only waits are SQLite's own work. Long scans should stay rare.
Another process holding the write lock (a `sqlite3` shell mid-transaction) must not freeze
the server, so SQLite's own busy wait is kept short (`BUSY_TIMEOUT_MS`) and a transaction
that cannot begin yet waits on the event loop, up to `LOCK_WAIT_S`.
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator, Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_, in_greenlet

DRIVER = "troupe_inline"
BUSY_TIMEOUT_MS = 50  # SQLite's own wait for a lock, with the event loop blocked
LOCK_WAIT_S = 30.0  # then, waiting between attempts with the loop free


class Cursor:
    """An aiosqlite-shaped cursor whose coroutines complete at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> "Cursor":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> "Cursor":
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> "Cursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses directly to set the
    isolation level: the request is carried out as it is put."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Connection:
    """An aiosqlite-shaped connection over one sqlite3 connection, used on the loop thread."""

    def __init__(self, conn: sqlite3.Connection, begin: str) -> None:
        self._conn = conn
        self._begin = begin
        self._connection: sqlite3.Connection | None = conn
        self._tx = _RunNow(conn)
        self._thread = SimpleNamespace(daemon=True)  # SQLAlchemy marks aiosqlite's thread

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def begin(self) -> None:
        """Begin a transaction; while another process holds the lock, retry with the loop
        free (from SQLAlchemy's greenlet) until `LOCK_WAIT_S` have passed."""
        deadline = time.monotonic() + LOCK_WAIT_S
        pause = 0.005
        while True:
            try:
                self._conn.execute(self._begin)
                return
            except sqlite3.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if not locked or not in_greenlet() or time.monotonic() > deadline:
                    raise
            await_(asyncio.sleep(pause))
            pause = min(pause * 2, 0.1)

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _Connecting:
    """What `connect` returns: awaitable like aiosqlite's, with the `_thread` it carries."""

    def __init__(self, *args: Any, begin: str = "BEGIN", **kw: Any) -> None:
        # Used only on the loop thread, but SQLAlchemy's pool may close it from another
        # (garbage collection), which sqlite3 would refuse.
        kw["check_same_thread"] = False
        # The driver's own transaction handling off: transactions start with `begin`.
        kw["isolation_level"] = None
        self._connection = Connection(sqlite3.connect(*args, **kw), begin)
        self._thread = self._connection._thread

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._connection
        yield  # a generator: awaiting it returns at once


def connect(*args: Any, **kw: Any) -> _Connecting:
    return _Connecting(*args, **kw)


class _Module(SimpleNamespace):
    """The aiosqlite module as SQLAlchemy's dialect reads it."""


_module = _Module(
    connect=connect,
    Connection=Connection,
    __version__="0.0",
    **{
        name: getattr(sqlite3, name)
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "sqlite_version",
            "sqlite_version_info",
        )
    },
)


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return AsyncAdapt_aiosqlite_dbapi(_module, sqlite3)  # type: ignore[arg-type]

    def do_begin(self, dbapi_connection: Any) -> None:
        """Open each transaction with the connection's own BEGIN (`connect_args={"begin":
        "BEGIN IMMEDIATE"}` for a writer): sqlite3 would otherwise begin a DEFERRED one at
        the first write, after the transaction's reads, and two writers could deadlock on
        the lock upgrade instead of queueing on the busy timeout."""
        dbapi_connection.driver_connection.begin()


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")
