"""Which stored messages of a history are in its context window now: Letta's
`AgentState.message_ids` and a conversation's `in_context_message_ids` (the system message
heads both; troupe stores none, see services.history_head).

It is what a fresh read of the history's window gives (troupe.agent.history
`read_window`): the newest `WINDOW_ROWS` rows after the history's current summary, cut to
start at an opening message. The token budget is applied by the next step, which
summarises the oldest of these first if they no longer fit.

Two statements for any number of histories (a page of agents costs two reads, not two per
agent): where each history's context starts, then the rows from there on, each history's
a range of its (agent, conversation, seq) index. A window function ranking every row cost
five times the read of the rows themselves (50 agents of 300 messages, SQLite)."""

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import String, Table, and_, case, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.history_tables import SummaryRow
from troupe.store.messages import MESSAGES, OPENING_TYPES, History

# The newest rows of a history the context window considers (the loop's `history_rows`).
WINDOW_ROWS = 200
SUMMARIES = cast(Table, SummaryRow.__table__)


class ContextRow(NamedTuple):
    """A message in context."""

    id: str
    seq: int
    opening: bool  # a user or system message, where an exchange starts


def _newest_of(table: Table, column: str, agents: list[str], conversations: list[str]) -> Any:
    keys = (table.c.agent_id, table.c.conversation_id)
    return (
        select(*keys, func.max(table.c[column]).label("seq"))
        .where(table.c.agent_id.in_(agents), table.c.conversation_id.in_(conversations))
        .group_by(*keys)
        .subquery()
    )


async def context_starts(
    session: AsyncSession, histories: Sequence[History], limit_rows: int
) -> dict[History, int]:
    """The newest sequence number before each history's context, for the histories with
    rows in it. Rows are numbered without gaps (`troupe check` reports one), so the newest
    `limit_rows` rows are those within `limit_rows` of the newest."""
    agents = sorted({h.agent_id for h in histories})
    conversations = sorted({h.conversation_id for h in histories})
    newest = _newest_of(MESSAGES, "seq", agents, conversations)
    summarized = _newest_of(SUMMARIES, "through_seq", agents, conversations)
    stmt = select(
        newest.c.agent_id,
        newest.c.conversation_id,
        newest.c.seq,
        func.coalesce(summarized.c.seq, 0),
    ).select_from(
        newest.outerjoin(
            summarized,
            and_(
                summarized.c.agent_id == newest.c.agent_id,
                summarized.c.conversation_id == newest.c.conversation_id,
            ),
        )
    )
    wanted = set(histories)
    return {
        history: max(through, seq - limit_rows)
        for agent_id, conversation_id, seq, through in (await session.execute(stmt)).all()
        if (history := History(agent_id, conversation_id)) in wanted and seq > through
    }


# Each row of a history in context as one piece of text, the history's pieces joined in
# one string by the database: a page of 50 agents hands Python 50 strings to split, not the
# 10,000 rows of a result. A piece is the sequence number, offset to a fixed width so that
# the pieces sort as text, a mark of an opening message, then the id.
_SEQ_OFFSET = 10**9  # PostgreSQL adds it as an int4: sequence numbers up to 1.1e9
_SEQ_WIDTH = 10
_PIECE = (
    sql_cast(MESSAGES.c.seq + _SEQ_OFFSET, String)
    + case((MESSAGES.c.message_type.in_(sorted(OPENING_TYPES)), "*"), else_=" ")
    + MESSAGES.c.id
)


async def in_context_ids(
    session: AsyncSession, histories: Sequence[History], limit_rows: int = WINDOW_ROWS
) -> dict[History, list[str]]:
    """The ids of each history's messages in context, oldest first."""
    pieces = await _pieces(session, histories, limit_rows)
    return {history: [p[_SEQ_WIDTH + 1 :] for p in found] for history, found in pieces.items()}


async def in_context_rows(
    session: AsyncSession, histories: Sequence[History], limit_rows: int = WINDOW_ROWS
) -> dict[History, list[ContextRow]]:
    """Each history's messages in context, oldest first."""
    pieces = await _pieces(session, histories, limit_rows)
    return {
        history: [
            ContextRow(p[_SEQ_WIDTH + 1 :], int(p[:_SEQ_WIDTH]) - _SEQ_OFFSET, p[_SEQ_WIDTH] == "*")
            for p in found
        ]
        for history, found in pieces.items()
    }


async def _pieces(
    session: AsyncSession, histories: Sequence[History], limit_rows: int
) -> dict[History, list[str]]:
    """Each history's pieces (see `_PIECE`) in context, oldest first (none for a history
    with no message in context)."""
    found: dict[History, list[str]] = {history: [] for history in histories}
    starts = await context_starts(session, histories, limit_rows) if histories else {}
    if not starts:
        return found
    ranges = [
        and_(
            MESSAGES.c.agent_id == history.agent_id,
            MESSAGES.c.conversation_id == history.conversation_id,
            MESSAGES.c.seq > start,
        )
        for history, start in starts.items()
    ]
    keys = (MESSAGES.c.agent_id, MESSAGES.c.conversation_id)
    stmt = select(*keys, func.aggregate_strings(_PIECE, ",")).where(or_(*ranges)).group_by(*keys)
    for agent_id, conversation_id, joined in (await session.execute(stmt)).all():
        found[History(agent_id, conversation_id)] = _from_opening(sorted(joined.split(",")))
    return found


def _from_opening(pieces: list[str]) -> list[str]:
    """Never starting inside an exchange (a tool result without its call)."""
    for index, piece in enumerate(pieces):
        if piece[_SEQ_WIDTH] == "*":
            return pieces[index:]
    return []
