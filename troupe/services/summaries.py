"""Summaries on demand, and clearing an agent's history. Both hold the agent's lock, so
they never cut into a turn."""

from troupe.agent.compaction import compact_now
from troupe.llm.handles import parse_handle
from troupe.runs.executor import RunExecutor
from troupe.schemas.agents import AgentState
from troupe.schemas.summaries import CompactionResponse, CompactionSettings
from troupe.services.agents import get_agent
from troupe.store import agents as agent_store
from troupe.store import messages as message_store
from troupe.store import summaries as summary_store
from troupe.store.messages import History


async def summarize(
    executor: RunExecutor, history: History, settings: CompactionSettings | None
) -> CompactionResponse:
    """Evict the oldest history (an agent's default one, or a conversation's) into its
    summary now (all of it in the `all` modes)."""
    if settings is not None and settings.model:
        parse_handle(settings.model)
    async with executor.locks.hold(history):
        outcome = await compact_now(executor.rt, history, settings)
    return CompactionResponse(
        num_messages_before=outcome.before,
        num_messages_after=outcome.after,
        summary=outcome.summary,
    )


async def reset_messages(executor: RunExecutor, agent_id: str) -> AgentState:
    """Delete the agent's whole history and its summaries, as Letta does (it keeps only its
    system message, which troupe renders afresh at every step rather than storing). troupe
    starts agents with no initial messages, so `add_default_initial_messages` adds none."""
    db = executor.rt.db
    history = History(agent_id)  # the default one; its conversations keep theirs
    async with executor.locks.hold(history):
        async with db.write() as session:
            await agent_store.get_agent_row(session, agent_id)
            await message_store.delete_messages(session, history)
            await summary_store.delete_summaries(session, history)
        executor.rt.history.forget(history)
    return await get_agent(db, agent_id)
