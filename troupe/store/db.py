"""Engines, transactions and migrations for SQLite and PostgreSQL behind one interface.

SQLite gets one writer connection (writes queue in-process instead of failing with
"database is locked") that opens its transactions with BEGIN IMMEDIATE, plus a small pool of
readers that WAL lets run beside it. PostgreSQL gets an ordinary pool for writes and a
small one for reads, which run without a transaction.
"""

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool
from sqlalchemy.util.concurrency import greenlet_spawn

from troupe.store import sqlite_inline
from troupe.store.inserts import Statement
from troupe.store.shared_writes import Before, SharedWrites
from troupe.store.vectors import install_sqlite_functions
from troupe.store.wal_checkpoints import BACKSTOP_PAGES, WalCheckpoints

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant will do; it only has to be the same in every troupe process on one database.
MIGRATION_LOCK_KEY = 7_420_305_118
PG_READ_CONNECTIONS = 8
T = TypeVar("T")


class Database:
    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                create_private_file(Path(self.url.database))
            inline = self.url.set(drivername=f"sqlite+{sqlite_inline.DRIVER}")
            self.writer = create_async_engine(
                inline, pool_size=1, max_overflow=0, connect_args={"begin": "BEGIN IMMEDIATE"}
            )
            self.reader = create_async_engine(
                inline, pool_size=4, max_overflow=4, connect_args={"begin": "BEGIN"}
            )
            self.checkpoints = _file_checkpoints(self.url.database, sqlite_synchronous)
            renew = _on_disk(self.url.database)
            _configure_sqlite(
                self.writer, synchronous=sqlite_synchronous, wal=self.checkpoints, renew=renew
            )
            _configure_sqlite(self.reader, synchronous=sqlite_synchronous, renew=renew)
        else:
            self.checkpoints = None
            self.writer = create_async_engine(url, pool_size=10, max_overflow=20)
            # Reads get a pool of their own, in autocommit: under READ COMMITTED each
            # statement sees its own snapshot anyway, so a BEGIN around them bought no
            # consistency, only two round trips. The pool is small on purpose: when a
            # hundred turns start at once (a broadcast), eight read at a time, first come
            # first served, and each is soon on its way to the model; with one connection
            # each, all of them took turns statement by statement and all were late.
            self.reader = create_async_engine(
                url, pool_size=PG_READ_CONNECTIONS, max_overflow=0, isolation_level="AUTOCOMMIT"
            )
        # PostgreSQL: the one connection that holds this process's per-agent advisory locks
        # (see store.advisory_locks), kept apart from the pool ordinary queries use.
        self.lock_engine = (
            None if self.is_sqlite else create_async_engine(url, pool_size=1, max_overflow=1)
        )
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)
        self._shared_writes = SharedWrites(self.write, self.write_now)

    def pools(self) -> list[tuple[str, int, int, int]]:
        """Each connection pool now: (name, size, connections in use, overflow)."""
        engines = {"write": self.writer, "read": self.reader, "locks": self.lock_engine}
        use = []
        for name, engine in engines.items():
            pool = engine.pool if engine is not None else None
            if isinstance(pool, QueuePool):
                use.append((name, pool.size(), pool.checkedout(), max(0, pool.overflow())))
        return use

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A read-write transaction: committed when the block ends, rolled back on error.
        (The session begins at its first statement; closing it unfinished rolls back.)"""
        if self.is_sqlite:
            session = self._write_sessions()
            try:
                yield session
                await session.commit()
            finally:
                await session.close()
        else:
            async with self._write_sessions() as session:
                yield session
                await session.commit()

    async def write_now(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in a read-write transaction: committed when it returns, rolled
        back if it raises. For the hot paths (a run's record, a step's write): `work` is
        plain code on SQLAlchemy's Core connection, its statements run from one greenlet.
        An `AsyncSession` costs a Session, an ORM transaction and a greenlet switch per
        statement, per commit and per close, which cost more than SQLite's own work.
        On SQLite with the writer free, `work` runs at once (see `_free`)."""
        engine = self.writer.sync_engine
        if self.is_sqlite and _free(engine):
            try:
                return _in_transaction(engine, work)
            except sqlite_inline.WouldWait:
                pass  # another process holds the write lock: wait with the loop free
        return await greenlet_spawn(_in_transaction, engine, work)

    async def read_now(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` on a read-only snapshot (see `read`), run as `write_now` runs
        its work: the reads every turn's start makes."""
        engine = self.reader.sync_engine
        if self.is_sqlite and _free(engine):
            try:
                return _on_snapshot(engine, work)
            except sqlite_inline.WouldWait:
                pass
        return await greenlet_spawn(_on_snapshot, engine, work)

    async def write_shared(
        self, statements: Sequence[Statement], before: Before | None = None
    ) -> None:
        """`before(session)`, then `statements`, in a transaction they may share with other
        writes ready at the same moment (group commit; see store.shared_writes)."""
        await self._shared_writes.run(statements, before)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; never blocks or is blocked by the writer. Nothing to commit:
        closing the session ends it (objects read stay loaded)."""
        if self.is_sqlite:
            session = self._read_sessions()
            try:
                yield session
            finally:
                await session.close()
        else:
            async with self._read_sessions() as session:
                yield session

    # Why SQLite sessions are closed by hand: SQLAlchemy's `async with session` closes the
    # session in a task of its own, shielded, so that a cancellation cannot cut a close
    # short while it talks to the server. That costs a turn of the event loop per
    # transaction, and with a hundred turns in flight (a broadcast) each commit's close,
    # and the writer connection with it, waited behind all of them. SQLite's statements run
    # inline (see sqlite_inline), so its close never yields and nothing can interrupt it;
    # PostgreSQL keeps SQLAlchemy's way.

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to call from many processes)."""
        async with self.writer.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await conn.run_sync(_upgrade_to_head)

    async def lock_for_startup(self, session: AsyncSession) -> None:
        """Serialise start-up work (migrations, built-in rows) between processes on PostgreSQL;
        SQLite's single writer already does."""
        if not self.is_sqlite:
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )

    async def dispose(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.close()
        if self.lock_engine is not None:
            await self.lock_engine.dispose()
        await self.writer.dispose()
        await self.reader.dispose()


def create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by this user alone, before SQLite
    does: it would follow the umask (usually 0644), and user tools run as other users must
    not read every agent's history. SQLite gives its -wal and -shm files the same mode. An
    existing file keeps the mode its owner gave it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _free(engine: Engine) -> bool:
    """Whether a connection of `engine` waits in its pool. SQLite's statements run inline
    (see sqlite_inline), so with one free nothing on the way can wait: the work may run at
    once, without `greenlet_spawn`, whose greenlet (a fresh stack) and two switches cost
    about 25 us, as much as a small statement. If the transaction cannot begin at once
    (another process holds the lock) the driver raises `WouldWait` before the work runs,
    and the caller goes the greenlet's way, where the wait leaves the loop free."""
    pool = engine.pool
    return isinstance(pool, QueuePool) and pool.checkedin() > 0


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    # What `engine.begin()` does, without its generator context manager (3 us a call).
    with engine.connect() as connection, connection.begin():
        return work(connection)


def _on_snapshot(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:  # closing it ends the snapshot
        return work(connection)


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _file_checkpoints(database: str | None, synchronous: str) -> WalCheckpoints | None:
    """The writer's checkpoints, off the loop (none for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return WalCheckpoints(sqlite_inline.driver, database, synchronous=synchronous.upper())


def _on_disk(database: str | None) -> bool:
    """Whether the database outlives its connections (a file, not an in-memory database,
    which goes with the last connection closed)."""
    return database not in (None, "", ":memory:") and "mode=memory" not in database


def _configure_sqlite(
    engine: AsyncEngine, *, synchronous: str, wal: WalCheckpoints | None = None, renew: bool
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun by the driver (see sqlite_inline: BEGIN IMMEDIATE for the
        # writer); these hold for the connection's life.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={sqlite_inline.BUSY_TIMEOUT_MS}")
        if wal is not None:  # the writer: checkpoints run on a thread (see wal_checkpoints)
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            dbapi_connection.driver_connection.on_commit = wal.committed
        cursor.close()
        install_sqlite_functions(dbapi_connection.driver_connection.raw)

    if not renew:
        return

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A connection whose statement cache is full is replaced at its next checkout
        # (see sqlite_inline: a full cache prepares each new statement at every execution).
        if dbapi_connection is not None and dbapi_connection.driver_connection.spent:
            record.invalidate(soft=True)
