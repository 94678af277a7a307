"""What a step reads of an agent, with statements built once.

A step runs these reads every time, so they skip the ORM (its loading machinery cost more
than the queries) and are built at import: SQLAlchemy then finds each one's compiled form
at once instead of working out a cache key per call. Tools are the exception: they change
rarely and their JSON schemas are costly to load, so a step asks only for the ids and
versions of its agent's tools, and `ToolShelf` loads the rows it does not hold yet."""

import functools
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Select, Table, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.group_tables import GroupRow
from troupe.store.prepared import Prepared
from troupe.store.tables import (
    AgentBlockRow,
    AgentRow,
    AgentToolRow,
    BlockRow,
    ToolRow,
)

AGENTS = cast(Table, AgentRow.__table__)
BLOCKS = cast(Table, BlockRow.__table__)
AGENT_BLOCKS = cast(Table, AgentBlockRow.__table__)
AGENT_TOOLS = cast(Table, AgentToolRow.__table__)
TOOLS = cast(Table, ToolRow.__table__)
GROUPS = cast(Table, GroupRow.__table__)
# Opens a read-only snapshot (`Database.read`).
Read = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass(frozen=True)
class AgentProfile:
    """The fields of an agent a turn uses."""

    id: str
    name: str
    system: str
    model: str
    llm_config: dict[str, Any]
    tool_rules: list[Any]
    compaction_settings: dict[str, Any] | None = None
    # The agent is a sleep-time group's primary: its turns are handed over when they end
    # (troupe.messaging.sleeptime). Read with the agent, so the many agents without one
    # cost no query of their own after each turn.
    sleeptime_group: bool = False
    agent_type: str = "memgpt_agent"  # Letta's: which loop the agent runs (see agent.loop)


@dataclass(frozen=True)
class PromptBlock:
    """A memory block as the system prompt shows it."""

    label: str
    value: str
    char_limit: int
    read_only: bool
    description: str | None


# For several agents at once (the turns that start together read together), with rows
# grouped by agent. Each is built once per number of agents, its ids as plain parameters
# `agent_0`, `agent_1`, ...: an expanding IN is rendered anew at every execution, which
# cost more than the query.
@functools.lru_cache(maxsize=64)
def _agents(count: int) -> Select[Any]:
    return select(
        AGENTS.c.id, AGENTS.c.name, AGENTS.c.system, AGENTS.c.model, AGENTS.c.llm_config,
        AGENTS.c.tool_rules, AGENTS.c.compaction_settings, _SLEEPTIME_GROUP, AGENTS.c.agent_type,
    ).where(AGENTS.c.id.in_(_agent_parameters(count)))  # fmt: skip


_SLEEPTIME_GROUP = (
    exists()
    .where(GROUPS.c.manager_agent_id == AGENTS.c.id, GROUPS.c.manager_type == "sleeptime")
    .label("sleeptime_group")
)


@functools.lru_cache(maxsize=64)
def _blocks(count: int) -> Select[Any]:
    return (
        select(
            AGENT_BLOCKS.c.agent_id,
            BLOCKS.c.label,
            BLOCKS.c.value,
            BLOCKS.c.char_limit,
            BLOCKS.c.read_only,
            BLOCKS.c.description,
        )
        .join(AGENT_BLOCKS, AGENT_BLOCKS.c.block_id == BLOCKS.c.id)
        .where(AGENT_BLOCKS.c.agent_id.in_(_agent_parameters(count)))
        .order_by(AGENT_BLOCKS.c.agent_id, AGENT_BLOCKS.c.position)
    )


@functools.lru_cache(maxsize=64)
def _tool_versions(count: int) -> Select[Any]:
    return (
        select(AGENT_TOOLS.c.agent_id, TOOLS.c.id, TOOLS.c.updated_at)
        .join(AGENT_TOOLS, AGENT_TOOLS.c.tool_id == TOOLS.c.id)
        .where(AGENT_TOOLS.c.agent_id.in_(_agent_parameters(count)))
        .order_by(AGENT_TOOLS.c.agent_id, AGENT_TOOLS.c.position)
    )


def _agent_parameters(count: int) -> list[BindParameter[str]]:
    return [bindparam(f"agent_{i}") for i in range(count)]


def _agent_values(agent_ids: Sequence[str]) -> dict[str, str]:
    return {f"agent_{i}": agent_id for i, agent_id in enumerate(agent_ids)}


_TOOLS_BY_ID = select(ToolRow).where(ToolRow.id.in_(bindparam("ids", expanding=True)))


async def turn_agents(session: AsyncSession, agent_ids: Sequence[str]) -> dict[str, AgentProfile]:
    """The agents of `agent_ids` that exist, by id."""
    rows = await session.execute(_agents(len(agent_ids)), _agent_values(agent_ids))
    return {row[0]: AgentProfile(*row) for row in rows}


@dataclass(frozen=True)
class AgentStart:
    """What a turn's start reads of an agent in one row: the agent, its blocks in
    attachment order, and its tools' ids and versions (`updated_at` as the store renders
    it in JSON) in attachment order, for `ToolShelf.tools_at`."""

    agent: AgentProfile
    blocks: list[PromptBlock]
    tool_versions: list[tuple[str, str]]


def agent_starts_now(connection: Connection, agent_ids: Sequence[str]) -> dict[str, AgentStart]:
    """The agents of `agent_ids` that exist, by id: one statement, the blocks and the tool
    versions coming as JSON arrays, columns of the agent's row (see `Database.read_now`)."""
    postgres = connection.dialect.name == "postgresql"
    rows = _agent_starts(len(agent_ids), postgres).fetch(connection, _agent_values(agent_ids))
    found = {}
    for *agent, blocks, tools in rows:
        found[agent[0]] = AgentStart(
            AgentProfile(*agent),
            [
                PromptBlock(label, value, limit, bool(read_only), about)
                for label, value, limit, read_only, about in _listed(blocks)
            ],
            [(tool_id, str(version)) for tool_id, version in _listed(tools)],
        )
    return found


def _listed(value: Any) -> list[Any]:
    """A JSON array column: text on SQLite (and from asyncpg), or None for no rows."""
    return cast(list[Any], json.loads(value) if isinstance(value, str) else value or [])


@functools.lru_cache(maxsize=128)
def _agent_starts(count: int, postgres: bool) -> Prepared:
    as_array = func.json_build_array if postgres else func.json_array
    aggregate = func.json_agg if postgres else func.json_group_array
    block = as_array(
        BLOCKS.c.label, BLOCKS.c.value, BLOCKS.c.char_limit, BLOCKS.c.read_only,
        BLOCKS.c.description,
    )  # fmt: skip
    blocks = (
        select(aggregate(block).aggregate_order_by(AGENT_BLOCKS.c.position))
        .select_from(BLOCKS.join(AGENT_BLOCKS, AGENT_BLOCKS.c.block_id == BLOCKS.c.id))
        .where(AGENT_BLOCKS.c.agent_id == AGENTS.c.id)
        .scalar_subquery()
    )
    tool = as_array(TOOLS.c.id, TOOLS.c.updated_at)
    tools = (
        select(aggregate(tool).aggregate_order_by(AGENT_TOOLS.c.position))
        .select_from(TOOLS.join(AGENT_TOOLS, AGENT_TOOLS.c.tool_id == TOOLS.c.id))
        .where(AGENT_TOOLS.c.agent_id == AGENTS.c.id)
        .scalar_subquery()
    )
    return Prepared(_agents(count).add_columns(blocks.label("blocks"), tools.label("tools")))


async def prompt_blocks_of(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[PromptBlock]]:
    """Each agent's blocks in attachment order, as they are in the store now."""
    found: dict[str, list[PromptBlock]] = {agent_id: [] for agent_id in agent_ids}
    rows = await session.execute(_blocks(len(agent_ids)), _agent_values(agent_ids))
    for agent_id, *block in rows:
        found[agent_id].append(PromptBlock(*block))
    return found


async def prompt_blocks(session: AsyncSession, agent_id: str) -> list[PromptBlock]:
    return (await prompt_blocks_of(session, [agent_id]))[agent_id]


class ToolShelf:
    """Tool rows kept by (id, updated_at): a changed tool has a new `updated_at` and is
    loaded again; nothing is ever served stale."""

    def __init__(self, max_tools: int = 4096) -> None:
        self.max_tools = max_tools
        self._rows: dict[str, ToolRow] = {}
        self._schema_chars: dict[tuple[str, datetime], int] = {}
        # The version (as text, see AgentStart) each row held was read at, at the latest:
        # a row loaded afterwards is as new or newer, so a mismatch only loads again.
        self._seen_at: dict[str, str] = {}

    def schema_chars(self, row: ToolRow) -> int:
        """The length of the tool's JSON schema as text: what offering it adds to a prompt.
        Measured once per version of the tool."""
        key = (row.id, row.updated_at)
        size = self._schema_chars.get(key)
        if size is None:
            size = self._schema_chars[key] = len(json.dumps(row.json_schema))
        return size

    async def tools_of_agents(
        self, session: AsyncSession, agent_ids: Sequence[str]
    ) -> dict[str, list[ToolRow]]:
        """Each agent's tools in attachment order."""
        versions: dict[str, list[tuple[str, datetime]]] = {a: [] for a in agent_ids}
        rows = await session.execute(_tool_versions(len(agent_ids)), _agent_values(agent_ids))
        for agent_id, tool_id, at in rows:
            versions[agent_id].append((tool_id, at))
        wanted = {tool_id: at for pairs in versions.values() for tool_id, at in pairs}
        stale = [tool_id for tool_id, at in wanted.items() if not self._holds(tool_id, at)]
        await self._load(session, stale, list(wanted))
        return self._rows_of(versions)

    async def tools_at(
        self, read: Read, versions: dict[str, list[tuple[str, str]]]
    ) -> dict[str, list[ToolRow]]:
        """Each agent's tools in attachment order, at the versions `agent_starts_now` read
        (only the rows this shelf does not hold at those versions are loaded, in a snapshot
        of `read`'s opened for them)."""
        wanted = {tool_id: at for pairs in versions.values() for tool_id, at in pairs}
        stale = [tool_id for tool_id, at in wanted.items() if self._seen_at.get(tool_id) != at]
        if stale:
            async with read() as session:
                await self._load(session, stale, list(wanted))
        self._seen_at.update((tool_id, wanted[tool_id]) for tool_id in stale)
        return self._rows_of(versions)

    async def _load(self, session: AsyncSession, stale: list[str], wanted: list[str]) -> None:
        if stale and len(self._rows) + len(stale) > self.max_tools:
            self._rows.clear()  # rare (thousands of tools in use): start over
            self._schema_chars.clear()
            self._seen_at.clear()
            stale[:] = wanted
        if stale:
            loaded = (await session.execute(_TOOLS_BY_ID, {"ids": stale})).scalars()
            self._rows.update((row.id, row) for row in loaded)

    def _rows_of(self, versions: dict[str, list[tuple[str, Any]]]) -> dict[str, list[ToolRow]]:
        # A tool deleted between the statements is left out, as it would be a moment later.
        return {
            agent_id: [self._rows[tool_id] for tool_id, _ in pairs if tool_id in self._rows]
            for agent_id, pairs in versions.items()
        }

    def _holds(self, tool_id: str, updated_at: datetime) -> bool:
        row = self._rows.get(tool_id)
        return row is not None and row.updated_at == updated_at
