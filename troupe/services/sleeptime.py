"""Sleep-time pairing (`enable_sleeptime`): a primary agent gets a sleep-time agent that
shares its memory blocks and has the memory-editing tools, in a group of manager type
"sleeptime" whose manager is the primary (as Letta makes it). What runs it is
troupe.messaging.sleeptime."""

from typing import Any

from troupe.schemas.agents import AgentCreate, AgentState
from troupe.schemas.groups import GroupCreate, ManagerConfig
from troupe.services import groups as group_service
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import groups as group_store

AGENT_TYPE = "sleeptime_agent"
TOOLS = ["memory_insert", "memory_replace", "memory_rethink"]
SYSTEM = (
    "You are a sleep-time memory agent. You do not talk to anyone: you read conversations "
    "another agent (the primary agent) had, after they happened, and keep the memory blocks "
    "you share with it up to date. Each time, save what is worth remembering (facts about "
    "the user, decisions, preferences, what changed) into the right memory block with "
    "memory_insert, memory_replace or memory_rethink. Keep the blocks short and accurate."
)

# The frequency Letta's server gave the group `enable_sleeptime` makes: a sleep-time turn
# after every fifth turn of the primary. A script that moved from Letta pays for its
# sleep-time agent's model what it paid there; `PATCH /v1/groups/{id}` changes it.
PAIRED_FREQUENCY = 5


def tool_rules(primary: AgentState) -> list[dict[str, Any]]:
    """Rules that keep even a small model on the job: the first call is memory_insert at the
    end of one of the primary's writable blocks, of a line worth the name, and a successful
    edit ends the turn."""
    labels = [b.label for b in primary.blocks if not b.read_only]
    first: dict[str, Any] = {
        "type": "run_first",
        "tool_name": "memory_insert",
        "args": {"insert_line": -1},  # the end of the block: always a valid place
        "args_schema": {"new_str": {"type": "string", "minLength": 8}},
    }
    if labels:
        first["args_schema"]["label"] = {"type": "string", "enum": labels}
    return [first, *({"type": "exit_loop", "tool_name": name} for name in TOOLS)]


def sleeper_spec(primary: AgentState) -> AgentCreate:
    """The sleep-time agent of `primary`: its model, its blocks (shared, not copied)."""
    return AgentCreate(
        name=f"{primary.name}-sleeptime",
        description=f"Sleep-time memory agent of {primary.name} ({primary.id})",
        system=SYSTEM,
        agent_type=AGENT_TYPE,
        llm_config=primary.llm_config,
        block_ids=[b.id for b in primary.blocks],
        tools=TOOLS,
        include_base_tools=False,
        tool_rules=tool_rules(primary),
    )


async def pair(db: Database, primary_id: str, sleeper_id: str) -> None:
    """The group that hands the primary's turns over to its sleep-time agent, every
    `PAIRED_FREQUENCY` turns as Letta's `enable_sleeptime` made it."""
    config = ManagerConfig(
        manager_type="sleeptime",
        manager_agent_id=primary_id,
        sleeptime_agent_frequency=PAIRED_FREQUENCY,
    )
    await group_service.create_group(
        db, GroupCreate(agent_ids=[sleeper_id], description="", manager_config=config)
    )


async def unpair(db: Database, primary_id: str) -> None:
    """Remove the primary's sleep-time group and the sleep-time agents in it."""
    async with db.write() as session:
        group = await group_store.sleeptime_group_of(session, primary_id)
        if group is None:
            return
        await group_store.delete_group(session, group.group.id)
        for agent_id in group.agent_ids:
            agent = await agent_store.get_agent_row(session, agent_id)
            if agent.agent_type == AGENT_TYPE:
                await agent_store.delete_agent(session, agent_id)
