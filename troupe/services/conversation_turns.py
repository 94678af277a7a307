"""What happens in a conversation: its turns (answered in full or streamed), its history,
cancelling its runs, summarising it, and its system prompt as the next step compiles it.
A conversation's turn holds the conversation's lock, not the agent's: conversations of one
agent run in parallel, each one turn at a time."""

from collections.abc import AsyncIterator, Sequence

from troupe.agent.request import system_prompt
from troupe.errors import Conflict, InvalidInput, NotFound
from troupe.runs.executor import RunExecutor
from troupe.runs.request import RunRequest
from troupe.runs.waiting_cancel import waiting_run
from troupe.schemas.conversations import (
    ConversationCompaction,
    ConversationMessageRequest,
    ConversationStreamRequest,
)
from troupe.schemas.messages import LettaMessage, Run
from troupe.schemas.summaries import CompactionResponse
from troupe.services import messages, run_streams, summaries
from troupe.services.conversations import history_of
from troupe.services.messages import StreamEvent
from troupe.services.run_streams import RunStreamEvent
from troupe.store import Database
from troupe.store import conversations as conversation_store
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.messages import History
from troupe.store.paging import Page


async def _prepared(
    db: Database, conversation_id: str, body: ConversationMessageRequest
) -> tuple[History, ConversationMessageRequest]:
    """The history the message goes to, and the request with the conversation's own model
    when the request names none (as Letta: the request's override wins)."""
    history = await history_of(db, conversation_id, body.agent_id)
    if not history.conversation_id:
        return history, body
    async with db.read() as session:  # its last_message_at moves with the run (store.runs)
        model = (await conversation_store.get_conversation(session, history.conversation_id)).model
    if model and body.override_model is None:
        body = body.model_copy(update={"override_model": model})
    return history, body


async def send(
    executor: RunExecutor, conversation_id: str, body: ConversationMessageRequest
) -> messages.TurnAnswer:
    history, body = await _prepared(executor.rt.db, conversation_id, body)
    return await messages.send(executor, history, body)


async def stream(
    executor: RunExecutor, conversation_id: str, body: ConversationMessageRequest
) -> tuple[Run, AsyncIterator[StreamEvent | RunStreamEvent]]:
    history, body = await _prepared(executor.rt.db, conversation_id, body)
    return await run_streams.stream(executor, history, body)


async def list_messages(
    db: Database,
    conversation_id: str,
    agent_id: str | None,
    page: Page,
    types: Sequence[str] | None = None,
) -> list[LettaMessage]:
    history = await history_of(db, conversation_id, agent_id)
    return await messages.list_messages(db, history, page, types)


async def cancel(
    executor: RunExecutor, conversation_id: str, agent_id: str | None
) -> dict[str, str]:
    """Cancel the conversation's runs not ended yet (and the runs they started), and the
    run whose calls it waits on for approval (see runs.waiting_cancel); each cancelled id
    with "cancelled". With none of them, a 409 says so (as Letta)."""
    db = executor.rt.db
    history = await history_of(db, conversation_id, agent_id)
    waiting = await waiting_run(executor.rt, history)
    async with db.read() as session:
        active = await run_store.active_runs(
            session, Page(limit=10_000), agent_ids=[history.agent_id]
        )
    targets = [r.id for r in active if (r.conversation_id or "") == history.conversation_id]
    if not targets and waiting is None:
        raise Conflict(f"conversation {conversation_id!r} has no run in progress to cancel")
    cancelled = await executor.cancellations.cancel([t for t in targets if t != waiting])
    if waiting is not None and await executor.cancel_waiting(history, waiting):
        cancelled.append(waiting)
    return dict.fromkeys(cancelled, "cancelled")


async def compact(
    executor: RunExecutor, conversation_id: str, body: ConversationCompaction | None
) -> CompactionResponse:
    """Summarise the conversation's oldest history now (see agent.compaction)."""
    body = body or ConversationCompaction()
    history = await history_of(executor.rt.db, conversation_id, body.agent_id)
    return await summaries.summarize(executor, history, body.compaction_settings)


async def recompile(
    executor: RunExecutor, conversation_id: str, body: ConversationCompaction | None
) -> str:
    """The system prompt the conversation's next step sends. troupe compiles it afresh at
    every step (from the agent's current blocks), so there is nothing stored to rewrite:
    `dry_run` or not, this reads it."""
    history = await history_of(executor.rt.db, conversation_id, body.agent_id if body else None)
    async with executor.locks.hold(history):
        start = await executor.rt.starts.read(history)
    return system_prompt(start.agent, start.blocks, start.folders)


async def resume_stream(
    executor: RunExecutor, conversation_id: str, body: ConversationStreamRequest
) -> AsyncIterator[RunStreamEvent]:
    """The stream of one of the conversation's runs from `starting_after` on: `run_id`'s,
    or that of the run that stored the input sent with `otid` (either may have ended, as
    Letta's server streams them); else its newest run in progress, which must be a
    background one (only those are read back while the client is away)."""
    history = await history_of(executor.rt.db, conversation_id, body.agent_id)
    if body.run_id is not None or body.otid is not None:
        run_id = await _named_run(executor.rt.db, history, conversation_id, body)
    else:
        run_id = await _newest_background_run(executor.rt.db, history, conversation_id)
    return await run_streams.open_run_stream(executor, run_id, run_streams.reading(body))


async def _named_run(
    db: Database, history: History, conversation_id: str, body: ConversationStreamRequest
) -> str:
    """The run `run_id` or `otid` names: 404 when there is none, 422 for another
    history's run."""
    async with db.read() as session:
        if body.run_id is not None:
            run = await run_store.get_run(session, body.run_id)
            if History(run.agent_id, run.conversation_id or "") != history:
                raise InvalidInput(
                    f"run {run.id!r} is not a run of conversation {conversation_id!r}"
                )
            return run.id
        assert body.otid is not None
        run_id = await message_store.run_of_otid(session, history, body.otid)
    if run_id is None:
        raise NotFound(f"conversation {conversation_id!r} has no message with otid {body.otid!r}")
    return run_id


async def _newest_background_run(db: Database, history: History, conversation_id: str) -> str:
    async with db.read() as session:
        active = await run_store.active_runs(
            session, Page(limit=10_000), agent_ids=[history.agent_id]
        )
    mine = [r for r in active if (r.conversation_id or "") == history.conversation_id]
    if not mine:
        raise InvalidInput(f"conversation {conversation_id!r} has no run in progress")
    newest = mine[0]
    if not RunRequest.from_json(newest.request).background:
        raise InvalidInput(
            f"run {newest.id!r} was not started with `background: true`, so its stream "
            "cannot be resumed"
        )
    return newest.id
