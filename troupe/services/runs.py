"""Reading runs, their messages, usage and steps."""

from typing import Any

from troupe.runs.request import RunRequest
from troupe.schemas.messages import LettaMessage, Run, UsageStatistics
from troupe.services.views import message_view, run_view
from troupe.store import Database
from troupe.store import runs as run_store
from troupe.store.paging import Page


async def get_run(db: Database, run_id: str) -> Run:
    async with db.read() as session:
        return run_view(await run_store.get_run(session, run_id))


async def list_runs(
    db: Database,
    page: Page,
    *,
    agent_ids: list[str],
    statuses: list[str],
    stop_reason: str | None = None,
) -> list[Run]:
    async with db.read() as session:
        rows = await run_store.list_runs(
            session, page, agent_ids=agent_ids, statuses=statuses, stop_reason=stop_reason
        )
    return [run_view(r) for r in rows]


# A run's input (a user's message, a delivered one) is a user or system message; the turn
# produces neither. As a sync response, a run's messages are what the agent produced.
INPUT_TYPES = ("user_message", "system_message")


async def run_messages(db: Database, run_id: str, page: Page) -> list[LettaMessage]:
    """What the run produced, of the types its request asked to read back."""
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
        wanted = RunRequest.from_json(run.request or {}).return_message_types
        rows = await run_store.run_messages(
            session, run_id, page, leave_out=INPUT_TYPES, only=wanted
        )
    return [message_view(r) for r in rows]


async def run_usage(db: Database, run_id: str) -> UsageStatistics:
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
    return UsageStatistics(**(run.usage or {}))


async def run_steps(db: Database, run_id: str, page: Page) -> list[dict[str, Any]]:
    async with db.read() as session:
        await run_store.get_run(session, run_id)
        steps = await run_store.run_steps(session, run_id, page)
    return [
        {
            "id": s.id,
            "run_id": s.run_id,
            "agent_id": s.agent_id,
            "model": s.model,
            "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens,
            "model_ms": s.model_ms,
            "created_at": s.created_at.isoformat(),
        }
        for s in steps
    ]
