"""SQLite for the async engine without a thread per connection.

aiosqlite runs every statement on a worker thread and hands the result back to the event
loop: two thread switches, a self-pipe wake-up and a loop iteration per statement, which on
the hot path (about a dozen statements a message) cost more than SQLite itself. A statement
on a small indexed table takes microseconds, so here the sqlite3 calls run in the event
loop's own thread: SQLAlchemy's aiosqlite dialect is kept (its pool and sessions are
async), over a DBAPI connection whose cursors are plain sqlite3 ones.

What that costs: while SQLite works, the loop waits. troupe is SQLite's only process (one
server a database file), its one writer connection is queued by the pool, and WAL readers
never wait for it, so the only waits are SQLite's own work. Long scans should stay rare.
Another process holding the write lock (a `sqlite3` shell mid-transaction) must not freeze
the server, so SQLite's own busy wait is kept short (`BUSY_TIMEOUT_MS`) and a transaction
that cannot begin yet waits on the event loop, up to `LOCK_WAIT_S`.

Each connection is also renewed before its statement cache fills (`STATEMENT_CACHE`).
pysqlite3's cache is the one of Python before 3.11: it keeps the statements used most and
puts each new one last, where the next new one evicts it. Once it is full, a statement first
run after that is parsed and planned again at every execution, for the connection's life.
On a new database the writer's cache (100 statements by default) was full before the first
message, as the migrations alone run 229 different statements, so every statement of every
message was prepared anew: 9-10% of a full-window message's server CPU. A connection that
has run `STATEMENT_CACHE` different statements is therefore replaced when it next goes back
to its pool (see `store.db`), and its successor keeps whatever it is then given most.
"""

import asyncio
import collections
import importlib
import sqlite3
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import util
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_, in_greenlet


def _driver_module() -> Any:
    """pysqlite3's sqlite3 where installed: its SQLite loads extensions (sqlite-vec), which
    this platform's Python is often built without. Else the standard library's."""
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError:
        return sqlite3


driver = _driver_module()
DRIVER = "troupe_inline"
BUSY_TIMEOUT_MS = 50  # SQLite's own wait for a lock, with the event loop blocked
LOCK_WAIT_S = 30.0  # then, waiting between attempts with the loop free
# Statements a connection keeps prepared (sqlite3's `cached_statements`); a connection that
# has run this many different ones is renewed (see the module's text).
STATEMENT_CACHE = 256


class WouldWait(Exception):
    """A transaction could not begin at once (another process holds the lock), and the
    caller is not in SQLAlchemy's greenlet, where waiting with the loop free is possible:
    the caller begins again from one (see `Database.write_now`)."""


class _RunNow:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses directly to set the
    isolation level: the request is carried out as it is put."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Connection:
    """The driver-level connection: one sqlite3 connection, used on the loop thread, and
    the BEGIN its transactions start with."""

    def __init__(self, conn: sqlite3.Connection, begin: str) -> None:
        self._conn = conn
        self._begin = begin
        self._connection: sqlite3.Connection | None = conn  # None once closed
        self._tx = _RunNow()
        self.on_commit: Callable[[], None] | None = None  # told of each commit (checkpoints)
        # The SQL texts run, up to STATEMENT_CACHE (its BEGIN is run by every transaction).
        self._statements: set[str] = {begin}

    def ran(self, sql: str) -> None:
        """Note a statement run on this connection (for `spent`)."""
        self._statements.add(sql)

    @property
    def spent(self) -> bool:
        """Whether this connection has run as many different statements as its cache holds:
        a new one would now be prepared at every execution, so it is due for renewal."""
        return len(self._statements) >= STATEMENT_CACHE

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (to load extensions and register functions)."""
        return self._conn

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
            except driver.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if not locked or time.monotonic() > deadline:
                    raise
                if not in_greenlet():
                    raise WouldWait from exc
            await_(asyncio.sleep(pause))
            pause = min(pause * 2, 0.1)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's adapted cursor (rows fetched at execute, as the async result layer
    expects) over a plain sqlite3 cursor, called directly instead of awaited."""

    __slots__ = ()
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = adapt_connection._connection._conn.cursor()
        self._soft_closed_memoized = util.EMPTY_DICT
        self._rows = collections.deque()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._connection.ran(operation)
        cursor = cast(sqlite3.Cursor, self._cursor)
        result = cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())
        return result

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._connection.ran(operation)
        return cast(sqlite3.Cursor, self._cursor).executemany(operation, seq_of_parameters)


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """What SQLAlchemy's async dialect holds as the DBAPI connection. Its cursors are plain
    sqlite3 cursors and its commit and rollback plain calls: aiosqlite's versions return
    coroutines that SQLAlchemy awaits through a greenlet switch each, for nothing here."""

    __slots__ = ()
    _cursor_cls = _Cursor
    _ss_cursor_cls = _Cursor  # type: ignore[assignment]  # results are fetched at once anyway

    def commit(self) -> None:
        connection = self._connection
        if connection._connection is not None:
            connection._conn.commit()
            if connection.on_commit is not None:
                connection.on_commit()

    def rollback(self) -> None:
        if self._connection._connection is not None:
            self._connection._conn.rollback()

    def close(self) -> None:
        self._connection.stop()

    def create_function(self, *args: Any, **kw: Any) -> None:
        # A plain call: a connection may be opened where no greenlet runs (a renewed one
        # at its checkout in `Database.write_now`), and the dialect's connect registers
        # REGEXP through this.
        self._connection._conn.create_function(*args, **kw)


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The module SQLAlchemy's dialect uses as the DBAPI: sqlite3's errors and types, and a
    `connect` that opens the connection at once."""

    def connect(self, *args: Any, **kw: Any) -> _AdaptedConnection:
        begin = kw.pop("begin", "BEGIN")
        # Used only on the loop thread, but SQLAlchemy's pool may close it from another
        # (garbage collection), which sqlite3 would refuse.
        kw["check_same_thread"] = False
        # The driver's own transaction handling off: transactions start with `begin`.
        kw["isolation_level"] = None
        kw.setdefault("cached_statements", STATEMENT_CACHE)
        connection = Connection(driver.connect(*args, **kw), begin)
        return _AdaptedConnection(self, connection)  # type: ignore[arg-type]


_MODULE = SimpleNamespace(
    Connection=Connection,
    __version__="0.0",
    **{
        name: getattr(driver, name)
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
        return _DBAPI(_MODULE, driver)  # type: ignore[arg-type]

    def do_begin(self, dbapi_connection: Any) -> None:
        """Open each transaction with the connection's own BEGIN (`connect_args={"begin":
        "BEGIN IMMEDIATE"}` for a writer): sqlite3 would otherwise begin a DEFERRED one at
        the first write, after the transaction's reads, and two writers could deadlock on
        the lock upgrade instead of queueing on the busy timeout."""
        dbapi_connection.driver_connection.begin()


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")
