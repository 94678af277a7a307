"""The step store: what one step of the agent loop writes, as data, and the ways to commit
it. A step's messages, its step row and its run's progress (or, for the step that ends
the turn, the run's end) go in one transaction: alone, when the step's transactional tools
need the transaction too, or shared with the other steps ready at the same moment (group
commit, see store.shared_writes)."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.db import Database
from troupe.store.inserts import Statement, execute_statements
from troupe.store.messages import NewMessage
from troupe.store.shared_writes import Before
from troupe.store.tables import utcnow


@dataclass(frozen=True)
class StepWrite:
    agent_id: str
    last_seq: int  # the agent's newest sequence number before this step's messages
    messages: Sequence[NewMessage]
    step_id: str
    run_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    model_ms: int
    usage: dict[str, int]  # the run's usage after this step
    ends_run_with: str | None = None  # a stop reason: this step records the run's end

    def statements(self) -> list[Statement]:
        """The step's statements; numbers its messages after `last_seq` first."""
        message_store.number_messages(self.agent_id, self.messages, self.last_seq)
        step = run_store.step_statement(
            {
                "id": self.step_id,
                "run_id": self.run_id,
                "agent_id": self.agent_id,
                "model": self.model,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "model_ms": self.model_ms,
                "created_at": utcnow(),
            }
        )
        if self.ends_run_with is not None:
            run = run_store.end_statement(
                self.run_id, "completed", self.ends_run_with, None, usage=self.usage
            )
        else:
            run = run_store.progress_statement(self.run_id, self.usage)
        return [*message_store.message_statements(self.messages), step, run]


class StepStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def commit(self, write: StepWrite, before: Before | None = None) -> None:
        """`before(session)`, then the step, in a transaction it may share with other steps."""
        await self.db.write_shared(write.statements(), before)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the step's own, for transactional tools; `write_in` it last."""
        async with self.db.write() as session:
            yield session

    async def write_in(self, session: AsyncSession, write: StepWrite) -> None:
        await execute_statements(session, write.statements())

    async def append(
        self, agent_id: str, messages: Sequence[NewMessage], before: Before | None = None
    ) -> None:
        """Messages outside a step (a turn's input when its model cannot be reached)."""
        async with self.db.write() as session:
            if before is not None:
                await before(session)
            await message_store.append_messages(session, agent_id, messages)
