"""Group commit: writes that become ready at the same moment share one transaction.

When a hundred agents answer a broadcast, their model calls return within a few
milliseconds of each other and each wants to commit its step. One transaction apiece
cost a session, a BEGIN, a COMMIT (SQLite's write to its log; a round trip to
PostgreSQL), a close and three statements per step, one after another on the single
writer. Here a write is data (statements and their parameters, plus an optional callable
run first) gathered with the others ready in the same loop turn (troupe.gathering). They
go in one transaction, each statement once with every write's parameters (an
executemany), and each write is answered when that transaction has committed.

The statements of different writes must not depend on each other's order (rows of
different runs and agents do not). If the shared transaction fails, each write is run
again alone, so only a write that fails by itself sees an error; its `before` callable
must be safe to run again after a rollback. A write after a quiet spell goes at once,
alone, in its caller's task (see `Gathering.ask_or_serve`); a burst's others gather."""

import functools
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.gathering import Gathering
from troupe.store.inserts import Statement, execute_statements, execute_statements_now

Before = Callable[[AsyncSession], Awaitable[None]]
# A read-write transaction: committed when the block ends, rolled back on error.
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
# The same on a Core connection, for writes without a `before` (see Database.write_now).
CoreTransaction = Callable[[Callable[[Connection], None]], Awaitable[None]]


@dataclass(frozen=True)
class _Write:
    statements: Sequence[Statement]
    before: Before | None


class SharedWrites:
    def __init__(self, transaction: Transaction, core_transaction: CoreTransaction) -> None:
        self.transaction = transaction
        self.core_transaction = core_transaction
        self._writes: Gathering[_Write, None] = Gathering(self._commit_each)

    async def run(self, statements: Sequence[Statement], before: Before | None = None) -> None:
        """Execute `before(session)`, then `statements`, in a transaction they may share;
        return once it has committed."""
        await self._writes.ask_or_serve(_Write(statements, before))

    async def _commit_each(self, batch: list[_Write]) -> list[Exception | None]:
        try:
            await self._commit(batch)
            return [None] * len(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [exc]
        answers: list[Exception | None] = []
        for write in batch:  # find the one that fails: each on its own
            try:
                await self._commit([write])
                answers.append(None)
            except Exception as alone:
                answers.append(alone)
        return answers

    async def _commit(self, batch: list[_Write]) -> None:
        statements = [s for w in batch for s in w.statements]
        if all(w.before is None for w in batch):  # most steps: no session needed
            await self.core_transaction(
                functools.partial(execute_statements_now, statements=statements)
            )
            return
        async with self.transaction() as session:
            for write in batch:
                if write.before is not None:
                    await write.before(session)
            await execute_statements(session, statements)
