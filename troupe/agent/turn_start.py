"""What a turn reads before its first step: the agent, its tools, its blocks and its
history window. The turns that start at the same moment (a broadcast's workers, once
their locks are granted) read together (troupe.gathering): four statements for all of
them instead of four each."""

from collections.abc import Sequence
from dataclasses import dataclass

from troupe.agent.history import HistoryWindows, Window
from troupe.errors import NotFound
from troupe.gathering import Gathering
from troupe.store import Database, agent_files, step_reads
from troupe.store.agent_files import PromptFolder
from troupe.store.step_reads import AgentProfile, PromptBlock, ToolShelf
from troupe.store.tables import ToolRow


@dataclass(frozen=True)
class TurnStart:
    agent: AgentProfile
    tools: dict[str, ToolRow]  # by name
    blocks: list[PromptBlock]
    window: Window
    folders: Sequence[PromptFolder] = ()


# An agent with these tools has folders: its prompt shows their files.
FILE_TOOL = "open_files"


class TurnStarts:
    def __init__(self, db: Database, tools: ToolShelf, history: HistoryWindows) -> None:
        self.db = db
        self.tools = tools
        self.history = history
        self._reads: Gathering[str, TurnStart] = Gathering(self._read_each)

    async def read(self, agent_id: str) -> TurnStart:
        """The agent's context as stored now. Callers hold the agent's lock."""
        return await self._reads.ask(agent_id)

    async def _read_each(self, agent_ids: list[str]) -> list[TurnStart | Exception]:
        async with self.db.read() as session:
            agents = await step_reads.turn_agents(session, agent_ids)
            present = [agent_id for agent_id in agent_ids if agent_id in agents]
            tools = await self.tools.tools_of_agents(session, present)
            blocks = await step_reads.prompt_blocks_of(session, present)
            windows = await self.history.read_each(session, present)
            with_files = [a for a in present if any(t.name == FILE_TOOL for t in tools[a])]
            folders = await agent_files.prompt_folders_of(session, with_files) if with_files else {}
        return [
            TurnStart(
                agents[agent_id],
                {tool.name: tool for tool in tools[agent_id]},
                blocks[agent_id],
                windows[agent_id],
                folders.get(agent_id, ()),
            )
            if agent_id in agents
            else NotFound(f"agent {agent_id!r} not found")
            for agent_id in agent_ids
        ]
