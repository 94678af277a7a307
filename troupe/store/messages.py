"""Message rows: an agent's history."""

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.group_tables import GroupRunRow
from troupe.store.inserts import Statement, execute_statements
from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Ordering, Page, fetch_page
from troupe.store.prepared import Prepared
from troupe.store.tables import MessageRow, utcnow

# Types that open a new exchange: the context window never starts in the middle of one.
OPENING_TYPES = frozenset({"user_message", "system_message"})
MESSAGES = cast(Table, MessageRow.__table__)
_CONTEXT_COLUMNS = (
    "id", "seq", "message_type", "content", "step_id", "tool_call_id", "tool_name",
    "tool_arguments", "images",
)  # fmt: skip


class History(NamedTuple):
    """Which of an agent's histories: its default one (conversation "", what
    `/v1/agents/{id}/messages` reads and writes) or one of its conversations. Each numbers
    its own rows."""

    agent_id: str
    conversation_id: str = ""


def _of(history: History) -> Any:
    return and_(
        MESSAGES.c.agent_id == history.agent_id,
        MESSAGES.c.conversation_id == history.conversation_id,
    )


class NewMessage(Protocol):
    """A message about to be stored: the agent loop's own type (or a `MessageRow`); every
    column of the messages table is read from the attribute of its name."""

    id: str
    agent_id: str
    conversation_id: str
    seq: int


_INSERT_MESSAGES = Prepared(insert(MESSAGES))
MESSAGE_COLUMNS = tuple(column.key for column in MESSAGES.columns)


def message_statements(messages: Sequence[NewMessage]) -> list[Statement]:
    """One INSERT of the messages (an executemany), each row with every column."""
    statements: list[Statement] = []
    for message in messages:
        values = {column: getattr(message, column, None) for column in MESSAGE_COLUMNS}
        values["created_at"] = values["created_at"] or utcnow()
        statements.append((_INSERT_MESSAGES, values))
    return statements


async def append_messages(
    session: AsyncSession,
    history: History,
    messages: Sequence[NewMessage],
    *,
    last_seq: int | None = None,
) -> None:
    """Give the messages the agent's next sequence numbers and insert them (one statement).
    `last_seq`: the agent's newest sequence number, when the caller holds the agent's lock
    and has just read it (else it is read here). A wrong one fails the (agent, seq) unique
    constraint: nothing is ever written out of order."""
    if not messages:
        return
    seq = await newest_seq(session, history) if last_seq is None else last_seq
    number_messages(history, messages, seq)
    await execute_statements(session, message_statements(messages))


def number_messages(history: History, messages: Sequence[NewMessage], last_seq: int) -> None:
    """Give the messages the history's sequence numbers after `last_seq`."""
    for seq, message in enumerate(messages, start=last_seq + 1):
        message.agent_id = history.agent_id
        message.conversation_id = history.conversation_id
        message.seq = seq


class StoredMessage(Protocol):
    """What the context compiler reads of a stored message: a `MessageRow`, or the plain
    row `recent_messages` returns (it runs at every step, and loading a few hundred ORM
    objects cost more than the query)."""

    @property
    def id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def message_type(self) -> str: ...
    @property
    def content(self) -> str | None: ...
    @property
    def step_id(self) -> str | None: ...
    @property
    def tool_call_id(self) -> str | None: ...
    @property
    def tool_name(self) -> str | None: ...
    @property
    def tool_arguments(self) -> str | None: ...
    @property
    def images(self) -> list[Any] | None: ...


async def recent_messages(
    session: AsyncSession, history: History, limit: int
) -> list[StoredMessage]:
    """The newest `limit` rows, oldest first, trimmed to start at an opening message; as
    read-only rows (named-tuple like, same attribute names as `MessageRow`)."""
    stmt = (
        select(*(MESSAGES.c[name] for name in _CONTEXT_COLUMNS))
        .where(_of(history))
        .order_by(MESSAGES.c.seq.desc())
        .limit(limit)
    )
    rows = cast(list[StoredMessage], list((await session.execute(stmt)).all())[::-1])
    for index, row in enumerate(rows):
        if row.message_type in OPENING_TYPES:
            return rows[index:]
    return []


# The rows of a history's newest step, oldest first, in one statement built once: the
# newest row tells the step, and only rows within `scan` sequence numbers of it are looked
# at (a step is never that long). A newest row of no step (appended outside a turn) finds
# nothing, as `step_id = NULL` holds for no row. The newest row is read by two scalar
# subqueries, each one step down the (agent, conversation, seq) index: joined as a derived
# table instead, SQLite built it as a co-routine and sorted the result, and PostgreSQL
# looped over the whole history.
def _newest(column: str) -> Any:
    return (
        select(MESSAGES.c[column])
        .where(
            MESSAGES.c.agent_id == bindparam("agent_id"),
            MESSAGES.c.conversation_id == bindparam("conversation_id"),
        )
        .order_by(MESSAGES.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


_NEWEST_STEP = Prepared(
    select(*(MESSAGES.c[name] for name in _CONTEXT_COLUMNS))
    .where(
        MESSAGES.c.agent_id == bindparam("agent_id"),
        MESSAGES.c.conversation_id == bindparam("conversation_id"),
        MESSAGES.c.seq > _newest("seq") - bindparam("scan"),
        MESSAGES.c.step_id == _newest("step_id"),
    )
    .order_by(MESSAGES.c.seq)
)


async def newest_step(
    session: AsyncSession, history: History, scan: int = 64
) -> list[StoredMessage]:
    """The rows of the agent's newest step (within `scan` rows back), oldest first: where
    the calls waiting for approval are (see agent.approvals)."""
    rows = await session.execute(_NEWEST_STEP.statement, _newest_step_values(history, scan))
    return cast(list[StoredMessage], list(rows.all()))


def newest_step_now(
    connection: Connection, history: History, scan: int = 64
) -> list[StoredMessage]:
    """`newest_step` on a Core connection (see `Database.write_now`)."""
    return _NEWEST_STEP.fetch(connection, _newest_step_values(history, scan))


def _newest_step_values(history: History, scan: int) -> dict[str, Any]:
    return {"agent_id": history.agent_id, "conversation_id": history.conversation_id, "scan": scan}


async def run_of_message(session: AsyncSession, message_id: str) -> str | None:
    """The run that stored a message (None for a message outside runs)."""
    stmt = select(MESSAGES.c.run_id).where(MESSAGES.c.id == message_id)
    return cast(str | None, (await session.execute(stmt)).scalar_one_or_none())


async def run_of_otid(session: AsyncSession, history: History, otid: str) -> str | None:
    """The run that stored the history's newest message with this `otid` (a client's own
    id for its input), if any."""
    stmt = (
        select(MESSAGES.c.run_id)
        .where(_of(history), MESSAGES.c.otid == otid, MESSAGES.c.run_id.is_not(None))
        .order_by(MESSAGES.c.seq.desc())
        .limit(1)
    )
    return cast(str | None, (await session.execute(stmt)).scalar_one_or_none())


def messages_after_each_now(
    connection: Connection, after: dict[History, int], limit: int
) -> dict[History, list[StoredMessage]]:
    """For each history of `after`, up to `limit` of its rows newer than its sequence
    number, oldest first (one statement for all; see `Database.read_now`)."""
    found: dict[History, list[StoredMessage]] = {history: [] for history in after}
    if not after:
        return found
    values: dict[str, object] = {"limit": limit} if len(after) > 1 else {}
    for i, (history, seq) in enumerate(after.items()):
        values[f"agent_{i}"], values[f"conv_{i}"] = history
        values[f"seq_{i}"] = seq
    for row in _after_each(len(after), limit).fetch(connection, values):
        found[History(row.agent_id, row.conversation_id)].append(cast(StoredMessage, row))
    return found


@functools.lru_cache(maxsize=64)
def _after_each(count: int, limit: int) -> Prepared:
    """Built once per number of histories (see store.turns) and limit (the window's, one
    per server); one history needs no ranking. Its LIMIT is written into the SQL: SQLite
    (3.51) plans with a bound LIMIT's value, so a statement with `LIMIT ?` is prepared
    again at every execution, and this one runs at every turn's start."""
    keys = [MESSAGES.c.agent_id, MESSAGES.c.conversation_id]
    columns = [*keys, *(MESSAGES.c[name] for name in _CONTEXT_COLUMNS)]
    if count == 1:
        return Prepared(
            select(*columns)
            .where(MESSAGES.c.agent_id == bindparam("agent_0"))
            .where(MESSAGES.c.conversation_id == bindparam("conv_0"))
            .where(MESSAGES.c.seq > bindparam("seq_0"))
            .order_by(MESSAGES.c.seq)
            .limit(literal_column(str(int(limit))))
        )
    newer = or_(
        *(
            and_(
                MESSAGES.c.agent_id == bindparam(f"agent_{i}"),
                MESSAGES.c.conversation_id == bindparam(f"conv_{i}"),
                MESSAGES.c.seq > bindparam(f"seq_{i}"),
            )
            for i in range(count)
        )
    )
    rank = func.row_number().over(partition_by=keys, order_by=MESSAGES.c.seq)
    ranked = select(*columns).add_columns(rank.label("rank")).where(newer).subquery()
    return Prepared(
        select(
            ranked.c.agent_id,
            ranked.c.conversation_id,
            *(ranked.c[name] for name in _CONTEXT_COLUMNS),
        )
        .where(ranked.c.rank <= bindparam("limit"))
        .order_by(ranked.c.agent_id, ranked.c.conversation_id, ranked.c.seq)
    )


async def messages_between(
    session: AsyncSession, history: History, after_seq: int, before_seq: int, limit: int
) -> list[StoredMessage]:
    """The newest `limit` of the agent's rows with `after_seq < seq < before_seq`, oldest
    first (the context columns only)."""
    stmt = (
        select(*(MESSAGES.c[name] for name in _CONTEXT_COLUMNS))
        .where(_of(history))
        .where(MESSAGES.c.seq > after_seq, MESSAGES.c.seq < before_seq)
        .order_by(MESSAGES.c.seq.desc())
        .limit(limit)
    )
    return cast(list[StoredMessage], list((await session.execute(stmt)).all())[::-1])


async def delete_messages(session: AsyncSession, history: History) -> int:
    """Delete a whole history; how many rows it held."""
    result = await session.execute(delete(MessageRow).where(_of(history)))
    return int(getattr(result, "rowcount", 0) or 0)


async def newest_seq(session: AsyncSession, history: History) -> int:
    """The history's newest sequence number (0 before its first message)."""
    top = await session.execute(
        select(func.coalesce(func.max(MESSAGES.c.seq), 0)).where(_of(history))
    )
    return int(top.scalar_one())


# Messages are listed by sequence number (one history's, so unique), their cursors by id.
BY_SEQUENCE = Ordering(
    (MessageRow.seq,),
    lambda cursor: (select(MessageRow.seq).where(MessageRow.id == cursor).scalar_subquery(),),
)


async def whole_history(session: AsyncSession, history: History) -> list[MessageRow]:
    """Every message of one of the agent's histories, oldest first (an export carries a
    whole history; Letta's agent file has one per agent)."""
    stmt = select(MessageRow).where(_of(history)).order_by(MessageRow.seq)
    return list((await session.execute(stmt)).scalars())


async def list_messages(
    session: AsyncSession,
    history: History,
    page: Page,
    *,
    types: Sequence[str] | None = None,
    group_id: str | None = None,
) -> list[MessageRow]:
    """A history in sequence order; only its messages of `types` when given, and only
    those of the group's turns (its runs) when `group_id` is."""
    stmt = select(MessageRow).where(_of(history))
    if types is not None:
        stmt = stmt.where(MessageRow.message_type.in_(types))
    if group_id is not None:
        runs = select(GroupRunRow.run_id).where(GroupRunRow.group_id == group_id)
        stmt = stmt.where(MessageRow.run_id.in_(runs))
    return await fetch_page(session, stmt, BY_SEQUENCE, page)


def escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def last_message_times(
    session: AsyncSession, agent_ids: Sequence[str] | None
) -> dict[str, datetime]:
    """When each agent's newest message was written: its highest `seq` (an index-only look-up
    on (agent_id, seq)), then that one row's time. Agents with no message are left out."""
    newest = (
        select(MessageRow.agent_id, func.max(MessageRow.seq).label("seq"))
        .where(MessageRow.conversation_id == "")  # the default histories
        .group_by(MessageRow.agent_id)
    )
    if agent_ids is not None:
        newest = newest.where(MessageRow.agent_id.in_(agent_ids))
    top = newest.subquery()
    stmt = select(MessageRow.agent_id, MessageRow.created_at).join(
        top,
        (MessageRow.agent_id == top.c.agent_id)
        & (MessageRow.conversation_id == "")
        & (MessageRow.seq == top.c.seq),
    )
    return {agent_id: at for agent_id, at in (await session.execute(stmt)).all()}


async def get_message(session: AsyncSession, message_id: str) -> MessageRow:
    return await row_or_not_found(session, MessageRow, message_id, "message")
