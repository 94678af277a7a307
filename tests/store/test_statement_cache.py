"""SQLite parses and plans a statement once per connection, however many different
statements the connection ran before it (see `store.sqlite_inline`: pysqlite3's statement
cache, once full, prepares each newcomer again at every execution, so connections are
renewed before theirs fills). The driver's own cache is watched: its factory, the
connection's `__call__`, is called for each statement it has to prepare. And SQLite itself
prepares none of a message's statements again when it runs them with new values (as it
does with a bound LIMIT: see `store.messages._after_each`): asked through its C API, in the
library the driver runs."""

import asyncio
import collections
import ctypes
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from troupe.store import Database, sqlite_inline


class Watched(list[collections.Counter[str]]):
    """Each connection opened: the statements SQLite prepared on it, by SQL text."""

    def total(self, sql: str) -> int:
        return sum(counts[sql] for counts in self)

    def again(self, since: list[collections.Counter[str]]) -> dict[str, int]:
        """Statements that a connection prepared once more since `since`, having prepared
        them before (a connection's first preparation of a statement is no repeat)."""
        repeats: collections.Counter[str] = collections.Counter()
        for index, counts in enumerate(self):
            earlier = since[index] if index < len(since) else collections.Counter()
            for sql, n in counts.items():
                if n > 1 and n > earlier[sql]:
                    repeats[sql] += n - max(earlier[sql], 1)
        return dict(repeats)

    def snapshot(self) -> list[collections.Counter[str]]:
        return [collections.Counter(counts) for counts in self]


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> Watched:
    """Every connection opened from now on, watched."""
    watched = Watched()

    class Counting(sqlite_inline.driver.Connection):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self.counts: collections.Counter[str] = collections.Counter()
            watched.append(self.counts)

        def __call__(self, sql: str) -> Any:  # the cache's factory: a statement to prepare
            self.counts[sql] += 1
            return super().__call__(sql)

    connect = sqlite_inline.driver.connect

    def counting_connect(*args: Any, **kw: Any) -> Any:
        return connect(*args, factory=Counting, **kw)

    monkeypatch.setattr(sqlite_inline.driver, "connect", counting_connect)
    return watched


async def test_a_statement_run_after_the_cache_filled_is_prepared_once_more_at_most(
    tmp_path: Path, prepared: Watched
) -> None:
    db = Database(f"sqlite:///{tmp_path}/cache.db")
    try:
        await db.migrate()
        # As many different statements as a connection's cache holds, on the writer.
        async with db.write() as session:
            for n in range(sqlite_inline.STATEMENT_CACHE):
                await session.execute(text(f"SELECT {n} + :x"), {"x": 1})
        hot = "SELECT count(*) FROM agents WHERE id = ?"
        query = text("SELECT count(*) FROM agents WHERE id = :id")
        # At once (no greenlet: `write_now` with the writer free), where the full connection
        # is replaced first, and through a session.
        for _ in range(15):
            found = await db.write_now(lambda c: c.execute(query, {"id": "a"}).scalar_one())
            assert found == 0
            async with db.write() as session:
                assert (await session.execute(query, {"id": "a"})).scalar_one() == 0
        # Once on the full connection at most, once on the one that replaced it.
        assert prepared.total(hot) <= 2, prepared.total(hot)
    finally:
        await db.dispose()


async def test_a_message_prepares_none_of_its_statements_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prepared: Watched
) -> None:
    """The whole path of a message on a fresh database, whose migrations ran more different
    statements on the writer than its cache holds: after the first messages, nothing is
    prepared again."""
    from troupe.bootstrap import start_services, stop_services
    from troupe.config import Settings
    from troupe.schemas.agents import AgentCreate
    from troupe.schemas.messages import MessageRequest
    from troupe.services import agents as agent_service
    from troupe.services import messages as message_service
    from troupe.store.messages import History

    monkeypatch.setenv("TROUPE_HOME", str(tmp_path))
    services = await start_services(Settings(database_url=f"sqlite:///{tmp_path}/t.db"))
    try:
        agent = await agent_service.create_agent(
            services.db, services.registry, AgentCreate(name="cached", model="test/echo")
        )

        async def send(text: str) -> None:
            body = MessageRequest.model_validate({"messages": [{"role": "user", "content": text}]})
            response = await message_service.send(services.executor, History(agent.id), body)
            assert response.result.stop_reason == "end_turn"
            while services.executor._tasks:  # the after-turn listeners
                await asyncio.wait(list(services.executor._tasks))

        for i in range(3):
            await send(f"warm-up {i}")
        before = prepared.snapshot()
        ran: dict[str, tuple[bool, Any]] = {}

        def record(_c: Any, _cursor: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
            ran.setdefault(sql, (many, params))

        engines = (services.db.writer.sync_engine, services.db.reader.sync_engine)
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        for i in range(20):
            await send(f"message {i}")
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
        again = prepared.again(before)
        assert again == {}, again
    finally:
        await stop_services(services)
    replanned = SQLiteLibrary().reprepared(tmp_path / "t.db", ran)
    assert replanned == [], replanned
    assert any(sql.startswith("SELECT messages.") for sql in ran)  # the window's rows


class SQLiteLibrary:
    """The SQLite library the driver runs (pysqlite3's, linked into its module), called
    directly: what it does with a statement and new values, which Python does not show."""

    ROW = 100
    REPREPARE = 5  # SQLITE_STMTSTATUS_REPREPARE
    TRANSIENT = ctypes.c_void_p(-1)

    def __init__(self) -> None:
        module = pytest.importorskip("pysqlite3._sqlite3")
        lib = ctypes.CDLL(module.__file__)
        pointer = ctypes.c_void_p
        lib.sqlite3_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(pointer)]
        lib.sqlite3_prepare_v2.argtypes = [
            pointer,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(pointer),
            pointer,
        ]
        lib.sqlite3_bind_text.argtypes = [
            pointer,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            pointer,
        ]
        lib.sqlite3_bind_int64.argtypes = [pointer, ctypes.c_int, ctypes.c_int64]
        lib.sqlite3_bind_double.argtypes = [pointer, ctypes.c_int, ctypes.c_double]
        lib.sqlite3_bind_null.argtypes = [pointer, ctypes.c_int]
        for name in ("sqlite3_step", "sqlite3_reset", "sqlite3_finalize", "sqlite3_close"):
            getattr(lib, name).argtypes = [pointer]
        lib.sqlite3_stmt_status.argtypes = [pointer, ctypes.c_int, ctypes.c_int]
        lib.sqlite3_exec.argtypes = [pointer, ctypes.c_char_p, pointer, pointer, pointer]
        self.lib = lib

    def reprepared(self, database: Path, ran: dict[str, tuple[bool, Any]]) -> list[str]:
        """The statements of `ran` that SQLite prepares again when run twice, each with the
        values it ran with, on `database` (in a transaction rolled back)."""
        lib, db = self.lib, ctypes.c_void_p()
        assert lib.sqlite3_open(str(database).encode(), ctypes.byref(db)) == 0
        found = []
        try:
            for sql, (many, params) in ran.items():
                if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
                    continue
                statement = ctypes.c_void_p()
                assert (
                    lib.sqlite3_prepare_v2(db, sql.encode(), -1, ctypes.byref(statement), None) == 0
                )
                lib.sqlite3_exec(db, b"BEGIN", None, None, None)
                for _ in range(2):
                    for values in params if many else [params]:
                        self._bind(statement, values)
                        while lib.sqlite3_step(statement) == self.ROW:
                            pass
                        lib.sqlite3_reset(statement)
                lib.sqlite3_exec(db, b"ROLLBACK", None, None, None)
                if lib.sqlite3_stmt_status(statement, self.REPREPARE, 0):
                    found.append(sql)
                lib.sqlite3_finalize(statement)
        finally:
            lib.sqlite3_close(db)
        return found

    def _bind(self, statement: ctypes.c_void_p, values: Any) -> None:
        for index, value in enumerate(values, 1):
            if value is None:
                self.lib.sqlite3_bind_null(statement, index)
            elif isinstance(value, int):
                self.lib.sqlite3_bind_int64(statement, index, value)
            elif isinstance(value, float):
                self.lib.sqlite3_bind_double(statement, index, value)
            else:
                data = value.encode() if isinstance(value, str) else bytes(value)
                self.lib.sqlite3_bind_text(statement, index, data, len(data), self.TRANSIENT)
