"""Each agent's recent history as model turns, kept between steps in this process.

Every step sends the model the agent's newest rows, regrouped into turns. Reading two
hundred rows and converting them again at every step cost more than the rest of the step,
although history only ever grows at its end (rows are never edited, and only a turn holding
the agent's lock appends). So the converted window is kept, and a step asks the store only
for rows newer than the newest one it holds: none, unless another process ran a turn of
this agent in between. The window is exactly what a fresh read would give: the newest
`limit_rows` rows, cut to start at an opening message.

Windows are dropped least recently used first, so the rows held stay under a bound however
many agents talk."""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.exchanges import Exchange, fit_exchanges, split_exchanges
from troupe.llm.base import ChatMessage
from troupe.store import messages as message_store
from troupe.store.messages import OPENING_TYPES, StoredMessage


class _Row(NamedTuple):
    """A stored message as the window keeps it: the context columns only."""

    id: str
    seq: int
    message_type: str
    content: str | None
    step_id: str | None
    tool_call_id: str | None
    tool_name: str | None
    tool_arguments: str | None


def _light(row: StoredMessage) -> _Row:
    return _Row(
        row.id, row.seq, row.message_type, row.content, row.step_id,
        row.tool_call_id, row.tool_name, row.tool_arguments,
    )  # fmt: skip


@dataclass
class Window:
    """One agent's newest exchanges, oldest first, and the newest sequence number stored."""

    limit_rows: int
    last_seq: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    rows: int = 0

    def fit(self, pending: Sequence[StoredMessage], budget_tokens: int) -> list[ChatMessage]:
        """The model turns of this history plus `pending` (rows not stored yet), trimmed by
        whole exchanges, oldest first, to fit the budget."""
        return fit_exchanges([*self.exchanges, *split_exchanges(pending)], budget_tokens)

    def extend(self, rows: Sequence[StoredMessage]) -> None:
        """Add rows just stored (in sequence order, right after `last_seq`)."""
        if not rows:
            return
        light = [_light(r) for r in rows]
        if light[0].message_type not in OPENING_TYPES and self.exchanges:
            # The rows continue the newest exchange (a later step of its turn).
            tail = self.exchanges.pop()
            self.rows -= len(tail.rows)
            light = [*tail.rows, *light]  # type: ignore[list-item]
        for exchange in split_exchanges(light):
            if exchange.rows[0].message_type in OPENING_TYPES:
                self.exchanges.append(exchange)
                self.rows += len(exchange.rows)
        self.last_seq = light[-1].seq
        while self.rows > self.limit_rows and self.exchanges:
            self.rows -= len(self.exchanges.pop(0).rows)


class HistoryWindows:
    """The windows of the agents that talked lately, least recently used dropped first once
    they hold more than `max_rows` rows in all."""

    def __init__(self, limit_rows: int, max_rows: int) -> None:
        self.limit_rows = limit_rows
        self.max_rows = max_rows
        self._windows: OrderedDict[str, Window] = OrderedDict()
        self._held = 0

    async def read_each(self, session: AsyncSession, agent_ids: Sequence[str]) -> dict[str, Window]:
        """The agents' windows brought up to date from the store; callers hold the agents'
        locks, so nothing appends to their histories meanwhile. The windows held are
        brought up to date with one statement for all; the others are read afresh."""
        held = {agent_id: self._take(agent_id) for agent_id in agent_ids}
        after = {agent_id: w.last_seq for agent_id, w in held.items() if w is not None}
        newer = await message_store.messages_after_each(session, after, self.limit_rows + 1)
        windows: dict[str, Window] = {}
        for agent_id, window in held.items():
            rows = newer.get(agent_id, [])
            if window is not None and len(rows) > self.limit_rows:  # far behind: afresh
                window = None
            if window is None:
                window = Window(self.limit_rows)
                rows = await message_store.recent_messages(session, agent_id, self.limit_rows)
                if not rows:  # no history, or its newest exchange alone is over the limit
                    window.last_seq = await message_store.newest_seq(session, agent_id)
            window.extend(rows)
            self._put(agent_id, window)
            windows[agent_id] = window
        return windows

    def stored(self, agent_id: str, window: Window, rows: Sequence[StoredMessage]) -> None:
        """Rows of the agent were committed right after `window.last_seq`."""
        self._take(agent_id)
        window.extend(rows)
        self._put(agent_id, window)

    def forget(self, agent_id: str) -> None:
        """The agent's history changed in a way the window did not follow."""
        self._take(agent_id)

    def _take(self, agent_id: str) -> Window | None:
        window = self._windows.pop(agent_id, None)
        if window is not None:
            self._held -= window.rows + 1
        return window

    def _put(self, agent_id: str, window: Window) -> None:
        # A window counts one row more than it holds: empty ones take room too.
        self._windows[agent_id] = window
        self._held += window.rows + 1
        while self._held > self.max_rows and len(self._windows) > 1:
            _, dropped = self._windows.popitem(last=False)
            self._held -= dropped.rows + 1
