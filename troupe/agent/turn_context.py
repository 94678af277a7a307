"""What a turn reads before its first step: the agent, its tools, its blocks and its
history window. The turns that start at the same moment (a broadcast's workers, once
their locks are granted) read together (troupe.gathering): four statements for all of
them instead of four each."""

from dataclasses import dataclass

from troupe.agent.history import HistoryWindows, Window
from troupe.errors import NotFound
from troupe.gathering import Gathering
from troupe.store import Database
from troupe.store import turns as turn_store
from troupe.store.tables import ToolRow
from troupe.store.turns import PromptBlock, ToolShelf, TurnAgent


@dataclass(frozen=True)
class TurnContext:
    agent: TurnAgent
    tools: dict[str, ToolRow]  # by name
    blocks: list[PromptBlock]
    window: Window


class TurnContexts:
    def __init__(self, db: Database, tools: ToolShelf, history: HistoryWindows) -> None:
        self.db = db
        self.tools = tools
        self.history = history
        self._reads: Gathering[str, TurnContext] = Gathering(self._read_each)

    async def read(self, agent_id: str) -> TurnContext:
        """The agent's context as stored now. Callers hold the agent's lock."""
        return await self._reads.ask(agent_id)

    async def _read_each(self, agent_ids: list[str]) -> list[TurnContext | Exception]:
        async with self.db.read() as session:
            agents = await turn_store.turn_agents(session, agent_ids)
            present = [agent_id for agent_id in agent_ids if agent_id in agents]
            tools = await self.tools.tools_of_agents(session, present)
            blocks = await turn_store.prompt_blocks_of(session, present)
            windows = await self.history.read_each(session, present)
        return [
            TurnContext(
                agents[agent_id],
                {tool.name: tool for tool in tools[agent_id]},
                blocks[agent_id],
                windows[agent_id],
            )
            if agent_id in agents
            else NotFound(f"agent {agent_id!r} not found")
            for agent_id in agent_ids
        ]
