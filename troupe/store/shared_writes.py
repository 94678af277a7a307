"""Group commit: writes that become ready at the same moment share one transaction.

When a hundred agents answer a broadcast, their model calls return within a few
milliseconds of each other and each wants to commit its step. One transaction apiece
cost a session, a BEGIN, a COMMIT (SQLite's write to its log; a round trip to
PostgreSQL), a close and three statements per step, one after another on the single
writer. Here a write is data (statements and their parameters, plus an optional callable
run first) and waits, at most one turn of the event loop, for the others ready too. They
go in one transaction, each statement once with every write's parameters (an
executemany), and each write is answered when that transaction has committed.

The statements of different writes must not depend on each other's order (rows of
different runs and agents do not). If the shared transaction fails, each write is run
again alone, so only a write that fails by itself sees an error; its `before` callable
must be safe to run again after a rollback. A lone write costs one loop turn more than
`Database.write`."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.inserts import merge_statements

if TYPE_CHECKING:
    from troupe.store.db import Database

Statement = tuple[Executable, dict[str, Any]]
Before = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class _Waiting:
    statements: Sequence[Statement]
    before: Before | None
    answer: "asyncio.Future[None]"


async def execute_statements(session: AsyncSession, statements: Iterable[Statement]) -> None:
    """`statements` in order of first appearance, each once with all its parameters."""
    for statement, values in merge_statements(statements):
        await session.execute(statement, values)


class SharedWrites:
    def __init__(self, db: "Database", max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None

    async def run(self, statements: Sequence[Statement], before: Before | None = None) -> None:
        """Execute `before(session)`, then `statements`, in a transaction they may share;
        return once it has committed."""
        waiting = _Waiting(statements, before, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._committer is None or self._committer.done():
            # A task, so it starts after everything else ready in this loop turn has had
            # its chance to join.
            self._committer = asyncio.create_task(self._commit_waiting())
        await waiting.answer

    async def _commit_waiting(self) -> None:
        try:
            await self._commit_all()
        except BaseException as exc:  # cancelled (shutdown): nobody may wait forever
            for waiting in self._waiting:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            self._waiting.clear()
            raise

    async def _commit_all(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                await self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _answer(batch[0], exc)
                    continue
                for waiting in batch:  # find the one that fails: each on its own
                    try:
                        await self._commit([waiting])
                    except Exception as alone:
                        _answer(waiting, alone)
                    else:
                        _answer(waiting, None)
            else:
                for waiting in batch:
                    _answer(waiting, None)

    async def _commit(self, batch: list[_Waiting]) -> None:
        async with self.db.write() as session:
            for waiting in batch:
                if waiting.before is not None:
                    await waiting.before(session)
            await execute_statements(session, (s for w in batch for s in w.statements))


def _answer(waiting: _Waiting, error: Exception | None) -> None:
    if waiting.answer.done():
        return
    if error is None:
        waiting.answer.set_result(None)
    else:
        waiting.answer.set_exception(error)
