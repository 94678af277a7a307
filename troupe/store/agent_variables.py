"""An agent's variables for its tools: the set shown with the agent, replaced as a whole,
and read as one small query when one of its tools is about to run (never at a turn's start)."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.ids import new_id
from troupe.store.db import Database
from troupe.store.inserts import insert_rows
from troupe.store.variable_tables import AgentVariableRow

VARIABLES = cast(Table, AgentVariableRow.__table__)


def new_variable_rows(agent_id: str, values: Mapping[str, str]) -> list[AgentVariableRow]:
    return [
        AgentVariableRow(id=new_id("agent-env"), agent_id=agent_id, key=key, value=value)
        for key, value in values.items()
    ]


async def add_variables(session: AsyncSession, agent_id: str, values: Mapping[str, str]) -> None:
    """A new agent's variables (one INSERT, none if there are none)."""
    if values:
        await insert_rows(session, new_variable_rows(agent_id, values))


async def replace_variables(
    session: AsyncSession, agent_id: str, values: Mapping[str, str]
) -> None:
    """The agent's variables become exactly `values`, as Letta's update replaces them. A
    name kept keeps its row (id, creation time, description); only its value changes."""
    held = {
        row.key: row
        for row in (
            await session.execute(
                select(AgentVariableRow).where(AgentVariableRow.agent_id == agent_id)
            )
        ).scalars()
    }
    gone = [row.id for key, row in held.items() if key not in values]
    if gone:
        await session.execute(delete(AgentVariableRow).where(AgentVariableRow.id.in_(gone)))
    for key, value in values.items():
        if key in held and held[key].value != value:
            held[key].value = value
    await add_variables(session, agent_id, {k: v for k, v in values.items() if k not in held})


async def variables_of_agents(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[AgentVariableRow]]:
    """agent id -> its variables by name: one query for a page of agents."""
    found: dict[str, list[AgentVariableRow]] = defaultdict(list)
    if not agent_ids:
        return found
    stmt = (
        select(AgentVariableRow)
        .where(AgentVariableRow.agent_id.in_(agent_ids))
        .order_by(AgentVariableRow.agent_id, AgentVariableRow.key)
    )
    for row in (await session.execute(stmt)).scalars():
        found[row.agent_id].append(row)
    return found


async def environment_of(db: Database, agent_id: str) -> dict[str, str]:
    """The agent's variables as a tool's environment: names to values, in one query."""
    stmt = select(VARIABLES.c.key, VARIABLES.c.value).where(VARIABLES.c.agent_id == agent_id)
    async with db.read() as session:
        return {key: value for key, value in await session.execute(stmt)}
