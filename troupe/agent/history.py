"""Each agent's recent history as model turns, kept between steps in this process.

Every step sends the model the agent's newest rows, regrouped into turns. Reading two
hundred rows and converting them again at every step cost more than the rest of the step,
although history only ever grows at its end (rows are never edited, and only a turn holding
the agent's lock appends). So the converted window is kept, and a step asks the store only
for rows newer than the newest one it holds: none, unless another process ran a turn of
this agent in between. The window is exactly what a fresh read would give: the newest
`limit_rows` rows, cut to start at an opening message.

Windows are dropped least recently used first, so the rows held stay under a bound however
many agents talk.

A window also holds the agent's current summary (troupe.agent.compaction): the rows it
covers are never in the window, and it heads the history the model sees. `fit` says when
rows would leave the context unsummarised (over the budget, or past the row bound), so a
step knows a summary is due without reading anything."""

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.exchanges import Exchange, estimate_tokens, first_fitting, split_exchanges
from troupe.llm.base import ChatMessage
from troupe.store import messages as message_store
from troupe.store import summaries as summary_store
from troupe.store.history_tables import SummaryRow
from troupe.store.messages import OPENING_TYPES, History, StoredMessage
from troupe.store.step_reads import Read


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
    images: list[Any] | None


def _light(row: StoredMessage) -> _Row:
    return _Row(
        row.id, row.seq, row.message_type, row.content, row.step_id,
        row.tool_call_id, row.tool_name, row.tool_arguments, row.images,
    )  # fmt: skip


_MESSAGES = attrgetter("messages")
_TOKENS = attrgetter("tokens")


@dataclass(frozen=True)
class HeldSummary:
    """The summary of an agent's history up to `through_seq` (`count` messages), and the
    message that shows it to the model at the head of its history: none for an empty one,
    which marks only where a client cut the context (troupe.services.in_context)."""

    text: str
    through_seq: int
    count: int
    message: ChatMessage | None
    tokens: int

    @classmethod
    def of(cls, text: str, through_seq: int, count: int) -> "HeldSummary":
        if not text:
            return cls(text, through_seq, count, None, 0)
        notice = (
            f"Note: the {count} oldest messages of this conversation are out of view, to fit "
            "the context window. They are still stored: conversation_search finds them. "
            f"Summary of them:\n{text}"
        )
        message = ChatMessage(role="user", content=notice)
        return cls(text, through_seq, count, message, estimate_tokens([message]))

    @classmethod
    def of_row(cls, row: SummaryRow) -> "HeldSummary":
        return cls.of(row.content, row.through_seq, row.message_count)


class Fitted(NamedTuple):
    """The history as the model sees it (the summary, then the newest exchanges that fit),
    and whether rows would leave the context unsummarised."""

    messages: list[ChatMessage]
    summary_due: bool


@dataclass
class Window:
    """One agent's newest exchanges, oldest first, and the newest sequence number stored."""

    limit_rows: int
    last_seq: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    rows: int = 0
    summary: HeldSummary | None = None
    tokens: int = field(init=False, default=0)  # the exchanges' estimated tokens
    _turns: list[ChatMessage] = field(init=False, default_factory=list, repr=False)

    def __post_init__(self) -> None:
        given, self.exchanges = self.exchanges, []
        for exchange in given:
            self.exchanges.append(exchange)
            self.tokens += exchange.tokens
            self._turns.extend(exchange.messages)

    @property
    def summarized_seq(self) -> int:
        """The newest sequence number the summary covers (0: none)."""
        return self.summary.through_seq if self.summary is not None else 0

    @property
    def first_seq(self) -> int:
        """The oldest sequence number the window holds (or the next one, when empty)."""
        return self.exchanges[0].rows[0].seq if self.exchanges else self.last_seq + 1

    def fit(self, pending: Sequence[StoredMessage], budget_tokens: int) -> Fitted:
        """The model turns of the summary, this history and `pending` (rows not stored yet),
        trimmed by whole exchanges, oldest first, to fit the budget. A summary is due when
        that trims something, or rows after the summary are no longer in the window."""
        added = split_exchanges(pending)
        summary = self.summary
        head = [summary.message] if summary is not None and summary.message is not None else []
        room = budget_tokens - (summary.tokens if summary is not None else 0)
        if self.tokens + sum(map(_TOKENS, added)) <= room:  # all of it fits: as held
            first, turns = 0, [*head, *self._turns, *chain.from_iterable(map(_MESSAGES, added))]
        else:
            exchanges = [*self.exchanges, *added]
            first = first_fitting(exchanges, room)
            turns = [*head, *chain.from_iterable(map(_MESSAGES, exchanges[first:]))]
        due = first > 0 or self.first_seq > self.summarized_seq + 1
        return Fitted(turns, due)

    def summarized(self, summary: HeldSummary, evicted: int) -> None:
        """`summary` now covers the `evicted` oldest exchanges (and any rows before them)."""
        self._drop_oldest(evicted)
        self.summary = summary

    def extend(self, rows: Sequence[StoredMessage]) -> None:
        """Add rows just stored (in sequence order, right after `last_seq`); rows the
        summary covers are left out."""
        if not rows:
            return
        if rows[0].seq <= self.summarized_seq:
            newest = rows[-1].seq
            rows = [r for r in rows if r.seq > self.summarized_seq]
            if not rows:
                self.last_seq = max(self.last_seq, newest)
                return
        light = [_light(r) for r in rows]
        if light[0].message_type not in OPENING_TYPES and self.exchanges:
            # The rows continue the newest exchange (a later step of its turn).
            tail = self._drop_newest()
            light = [*tail.rows, *light]  # type: ignore[list-item]
        for exchange in split_exchanges(light):
            if exchange.rows[0].message_type in OPENING_TYPES:
                self._add(exchange)
        self.last_seq = light[-1].seq
        evicted, held = 0, self.rows
        while held > self.limit_rows and evicted < len(self.exchanges):
            held -= len(self.exchanges[evicted].rows)
            evicted += 1
        self._drop_oldest(evicted)

    # The exchanges change only through these three, which keep `rows`, `tokens` and the
    # exchanges' model turns in one list (`_turns`) with them: a step that fits the whole
    # window then copies that list instead of gathering it again.

    def _add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        self.rows += len(exchange.rows)
        self.tokens += exchange.tokens
        self._turns.extend(exchange.messages)

    def _drop_newest(self) -> Exchange:
        tail = self.exchanges.pop()
        self.rows -= len(tail.rows)
        self.tokens -= tail.tokens
        del self._turns[len(self._turns) - len(tail.messages) :]
        return tail

    def _drop_oldest(self, count: int) -> None:
        dropped = self.exchanges[:count]
        del self.exchanges[:count]
        self.rows -= sum(len(e.rows) for e in dropped)
        self.tokens -= sum(map(_TOKENS, dropped))
        del self._turns[: sum(len(e.messages) for e in dropped)]


async def read_window(
    session: AsyncSession, history: History, limit_rows: int, summary: SummaryRow | None
) -> Window:
    """The history's window as the store holds it: `summary` (its current one), then its
    newest rows after it."""
    window = Window(limit_rows)
    if summary is not None:
        window.summary = HeldSummary.of_row(summary)
    rows = await message_store.recent_messages(session, history, limit_rows)
    if not rows:  # no history, or its newest exchange alone is over the limit
        window.last_seq = await message_store.newest_seq(session, history)
    window.extend(rows)
    return window


class HistoryWindows:
    """The windows of the histories (agents' default ones, and conversations) that talked
    lately, least recently used dropped first once they hold more than `max_rows` rows in
    all."""

    def __init__(self, limit_rows: int, max_rows: int) -> None:
        self.limit_rows = limit_rows
        self.max_rows = max_rows
        self._windows: OrderedDict[History, Window] = OrderedDict()
        self._held = 0

    def held_seqs(self, histories: Sequence[History]) -> dict[History, int]:
        """The newest sequence number of each window held of `histories`: the rows after
        them are what `read_each` wants (`messages_after_each_now`, `limit_rows + 1` each)."""
        return {h: w.last_seq for h in histories if (w := self._windows.get(h)) is not None}

    def newest_step(self, history: History, scan: int = 64) -> list[StoredMessage] | None:
        """The rows of the history's newest step as its held window has them, oldest first
        (what `store.messages.newest_step` reads: the rows within `scan` sequence numbers
        of the newest one that share its step), or None when the window does not hold
        them all (none held, its newest rows left out, or the step older than the window).
        Only right when no row was stored after `last_seq` (see `held_seqs`)."""
        window = self._windows.get(history)
        if window is None or not window.exchanges:
            return None
        newest = window.exchanges[-1].rows[-1]
        if newest.seq != window.last_seq:
            return None
        if newest.step_id is None:
            return []  # as the store's: a row of no step has no step's rows
        step: list[StoredMessage] = []
        for exchange in reversed(window.exchanges):
            for row in reversed(exchange.rows):
                if row.seq <= newest.seq - scan:
                    return step[::-1]
                if row.step_id != newest.step_id:
                    return step[::-1]
                step.append(row)
        # Every row held is of the step: it may go on in rows before the window's.
        return step[::-1] if window.first_seq == 1 else None

    async def read_each(
        self,
        read: Read,
        histories: Sequence[History],
        after: dict[History, int],
        newer: dict[History, list[StoredMessage]],
    ) -> dict[History, Window]:
        """The histories' windows brought up to date from the store; callers hold their
        locks, so nothing appends to them meanwhile. The windows held are brought up to
        date with `newer`, the rows read after `after` (`held_seqs`); the others (and any
        window that moved since `after`) are read afresh, in a snapshot of `read`'s."""
        held = {history: self._take(history) for history in histories}
        for history, window in held.items():
            if window is not None and (
                window.last_seq != after.get(history)
                or len(newer.get(history, [])) > self.limit_rows  # far behind
            ):
                held[history] = None
        afresh = [history for history, window in held.items() if window is None]
        fresh = await self._read_afresh(read, afresh) if afresh else {}
        windows: dict[History, Window] = {}
        for history, window in held.items():
            if window is None:
                window = fresh[history]
            else:
                window.extend(newer.get(history, []))
            self._put(history, window)
            windows[history] = window
        return windows

    async def _read_afresh(self, read: Read, histories: list[History]) -> dict[History, Window]:
        async with read() as session:
            summaries = await summary_store.current_summaries(session, histories)
            return {
                history: await read_window(
                    session, history, self.limit_rows, summaries.get(history)
                )
                for history in histories
            }

    def summarized(
        self, history: History, window: Window, summary: HeldSummary, evicted: int
    ) -> None:
        """A new summary of the history was stored (see Window.summarized)."""
        self._take(history)
        window.summarized(summary, evicted)
        self._put(history, window)

    def stored(self, history: History, window: Window, rows: Sequence[StoredMessage]) -> None:
        """Rows of the history were committed right after `window.last_seq`."""
        self._take(history)
        window.extend(rows)
        self._put(history, window)

    def forget(self, history: History) -> None:
        """The history changed in a way the window did not follow."""
        self._take(history)

    def _take(self, history: History) -> Window | None:
        window = self._windows.pop(history, None)
        if window is not None:
            self._held -= window.rows + 1
        return window

    def _put(self, history: History, window: Window) -> None:
        # A window counts one row more than it holds: empty ones take room too.
        self._windows[history] = window
        self._held += window.rows + 1
        while self._held > self.max_rows and len(self._windows) > 1:
            _, dropped = self._windows.popitem(last=False)
            self._held -= dropped.rows + 1
