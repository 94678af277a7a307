"""The step store: what one step of the agent loop writes, as data, and the ways to commit
it. A step's messages, its step row and its run's progress (or, for the step that ends
the turn, the run's end) go in one transaction: alone, when the step's transactional tools
need the transaction too, or shared with the other steps ready at the same moment (group
commit, see store.shared_writes)."""

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.schemas.stop_reasons import ended_status
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.db import Database
from troupe.store.inserts import Statement, execute_statements
from troupe.store.messages import History, NewMessage
from troupe.store.shared_writes import Before
from troupe.store.tables import utcnow

_WRITTEN = "troupe_step_written"  # session.info: (step id, when its write began)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@dataclass(frozen=True)
class StepWrite:
    history: History
    last_seq: int  # the history's newest sequence number before this step's messages
    messages: Sequence[NewMessage]
    step_id: str
    run_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    model_ms: int
    usage: dict[str, int]  # the run's usage after this step
    started_at: datetime | None = None
    tools_ms: int | None = None
    ends_run_with: str | None = None  # a stop reason: this step records the run's end
    ends_run_error: str | None = None  # why, when that stop reason fails the run

    def statements(self) -> list[Statement]:
        """The step's statements; numbers its messages after `last_seq` first."""
        message_store.number_messages(self.history, self.messages, self.last_seq)
        step = run_store.step_statement(
            {
                "id": self.step_id,
                "run_id": self.run_id,
                "agent_id": self.history.agent_id,
                "model": self.model,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "model_ms": self.model_ms,
                "created_at": utcnow(),
                "started_at": self.started_at,
                "tools_ms": self.tools_ms,
            }
        )
        if self.ends_run_with is not None:
            run = run_store.end_statement(
                self.run_id,
                ended_status(self.ends_run_with),
                self.ends_run_with,
                self.ends_run_error,
                usage=self.usage,
            )
        else:
            run = run_store.progress_statement(self.run_id, self.usage)
        return [*message_store.message_statements(self.messages), step, run]


class StepStore:
    """Also times each step's write: known only once it has committed, a step's store time
    is kept here and stored in bulk by the executor's maintenance round (or `flush_timings`
    before metrics are read), so timing adds nothing to a step's own transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._store_ms: dict[str, int] = {}  # step id -> its write's time, not stored yet

    async def commit(self, write: StepWrite, before: Before | None = None) -> None:
        """`before(session)`, then the step, in a transaction it may share with other steps."""
        started = time.monotonic()
        await self.db.write_shared(write.statements(), before)
        self._store_ms[write.step_id] = _ms_since(started)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the step's own, for transactional tools; `write_in` it last."""
        async with self.db.write() as session:
            yield session
        if (written := session.info.pop(_WRITTEN, None)) is not None:
            step_id, started = written
            self._store_ms[step_id] = _ms_since(started)

    async def write_in(self, session: AsyncSession, write: StepWrite) -> None:
        session.info[_WRITTEN] = (write.step_id, time.monotonic())
        await execute_statements(session, write.statements())

    async def flush_timings(self) -> None:
        """Store the store times not stored yet."""
        if self._store_ms:
            async with self.db.write() as session:
                await execute_statements(session, self._timings())

    def _timings(self) -> list[Statement]:
        pending, self._store_ms = self._store_ms, {}
        return [run_store.store_time_statement(step_id, ms) for step_id, ms in pending.items()]

    async def append(
        self, history: History, messages: Sequence[NewMessage], before: Before | None = None
    ) -> None:
        """Messages outside a step (a turn's input when its model cannot be reached)."""
        async with self.db.write() as session:
            if before is not None:
                await before(session)
            await message_store.append_messages(session, history, messages)
