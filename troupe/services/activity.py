"""When agents last did something: what the ADE's agent list shows beside each agent."""

from troupe.schemas.agents import AgentActivity
from troupe.store import Database
from troupe.store import messages as message_store


async def last_activity(db: Database, agent_ids: list[str] | None) -> list[AgentActivity]:
    """Every agent (or those of `agent_ids`) that has a message, most recently active first."""
    async with db.read() as session:
        times = await message_store.last_message_times(session, agent_ids)
    ordered = sorted(times.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return [AgentActivity(agent_id=a, last_activity_at=at) for a, at in ordered]
