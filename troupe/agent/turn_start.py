"""What a turn reads before its first step: the agent, its tools, its blocks and its
history window. The turns that start at the same moment (a broadcast's workers, once
their locks are granted) read together (troupe.gathering): two statements for all of
them instead of two each."""

import functools
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from troupe.agent.history import HistoryWindows, Window
from troupe.errors import NotFound
from troupe.gathering import Gathering
from troupe.store import Database, agent_files, step_reads
from troupe.store import messages as message_store
from troupe.store.agent_files import PromptFolder
from troupe.store.messages import History, StoredMessage
from troupe.store.step_reads import AgentProfile, AgentStart, PromptBlock, ToolShelf
from troupe.store.tables import ToolRow

Newer = dict[History, list[StoredMessage]]


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
        self._reads: Gathering[History, TurnStart] = Gathering(self._read_each)
        # Each agent's tools by name, kept by the rows (the shelf hands out the same row
        # object until the tool changes): reading a row's name is an ORM attribute get.
        self._named: dict[tuple[ToolRow, ...], dict[str, ToolRow]] = {}

    def read(self, history: History) -> Awaitable[TurnStart]:
        """The agent's context as stored now, with the window of `history` (its default
        one, or a conversation's), to await. Callers hold the history's lock."""
        return self._reads.ask(history)

    def opening(self, history: History) -> "Opening":
        """The start of `history`'s turn, read inside a transaction of the caller's (the
        one recording the turn's run: see runs.opening): its `read` runs the statements
        there, `finish` makes the start. Callers hold the
        history's lock from before the transaction until the turn ends."""
        return Opening(self, history)

    async def _read_each(self, histories: list[History]) -> list[TurnStart | Exception]:
        after = self.history.held_seqs(histories)
        read = functools.partial(_read_starts, histories, after, self.history.limit_rows + 1)
        found, newer = await self.db.read_now(read)
        return await self._finish(histories, after, found, newer)

    async def _finish(
        self,
        histories: list[History],
        after: dict[History, int],
        found: dict[str, AgentStart],
        newer: Newer,
    ) -> list[TurnStart | Exception]:
        """The starts of `histories` from what their statements read (`_read_starts`); the
        rest (tools not held, windows not held, folders) in a snapshot of its own."""
        agent_ids = list(dict.fromkeys(h.agent_id for h in histories))
        agents = {agent_id: start.agent for agent_id, start in found.items()}
        blocks = {agent_id: start.blocks for agent_id, start in found.items()}
        versions = {agent_id: start.tool_versions for agent_id, start in found.items()}
        tools = await self.tools.tools_at(self.db.read, versions)
        present = [agent_id for agent_id in agent_ids if agent_id in agents]
        windows = await self.history.read_each(
            self.db.read, [h for h in histories if h.agent_id in agents], after, newer
        )
        named = {agent_id: self._by_name(tools[agent_id]) for agent_id in present}
        with_files = [a for a in present if FILE_TOOL in named[a]]
        folders: dict[str, list[PromptFolder]] = {}
        if with_files:
            async with self.db.read() as session:
                folders = await agent_files.prompt_folders_of(session, with_files)
        return [
            TurnStart(
                agents[history.agent_id],
                named[history.agent_id],
                blocks[history.agent_id],
                windows[history],
                folders.get(history.agent_id, ()),
            )
            if history.agent_id in agents
            else NotFound(f"agent {history.agent_id!r} not found")
            for history in histories
        ]

    def _by_name(self, rows: list[ToolRow]) -> dict[str, ToolRow]:
        """The tools by name (the caller only reads it: turns of one agent share it)."""
        key = tuple(rows)
        named = self._named.get(key)
        if named is None:
            if len(self._named) >= 4096:
                self._named.clear()  # rare (that many tool sets in use): start over
            named = self._named[key] = {tool.name: tool for tool in rows}
        return named


def _read_starts(
    histories: list[History], after: dict[History, int], limit: int, connection: Connection
) -> tuple[dict[str, AgentStart], Newer]:
    """Usually all a turn's start reads: two statements, no Session (on a snapshot of
    `Database.read_now`, or in the transaction recording the run)."""
    agent_ids = list(dict.fromkeys(h.agent_id for h in histories))
    found = step_reads.agent_starts_now(connection, agent_ids)
    return found, message_store.messages_after_each_now(connection, after, limit)


class Opening:
    """One turn's start, read in the transaction that records its run (see
    `TurnStarts.opening`)."""

    def __init__(self, starts: TurnStarts, history: History) -> None:
        self.starts = starts
        self.history = history
        self.after = starts.history.held_seqs([history])
        self.newer: Newer = {}
        self.found: dict[str, AgentStart] = {}

    def read(self, connection: Connection) -> list[StoredMessage] | None:
        """Run the start's statements in the caller's transaction; the rows of the
        history's newest step when the window held and the rows read after it tell them
        (else None: ask the store)."""
        read = _read_starts(
            [self.history], self.after, self.starts.history.limit_rows + 1, connection
        )
        self.found, self.newer = read
        if self.history not in self.after or self.newer[self.history]:
            return None
        return self.starts.history.newest_step(self.history)

    async def finish(self) -> TurnStart:
        """The start from what `read` read (tools, windows or folders not held are read
        in a snapshot of their own)."""
        (start,) = await self.starts._finish([self.history], self.after, self.found, self.newer)
        if isinstance(start, Exception):
            raise start
        return start
