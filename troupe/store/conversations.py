"""Conversations: an agent's histories beside its default one (see history_tables)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.store.history_tables import ConversationRow, SummaryRow
from troupe.store.lookup import row_or_not_found
from troupe.store.messages import MESSAGE_COLUMNS, MESSAGES, History, escape_like
from troupe.store.paging import Key, Ordering, Page, by_creation, fetch_page
from troupe.store.tables import MessageRow, RunRow, UTCDateTime

ArchiveStatus = Literal["unarchived", "archived", "all"]
ConversationOrder = Literal["created_at", "last_message_at", "last_run_completion"]
# A conversation with no message (or no finished run) yet sorts as if it had one at the
# epoch: last when newest comes first, first in ascending order, as on Letta's server.
_NEVER = literal(datetime(1970, 1, 1, tzinfo=UTC), UTCDateTime())


@dataclass(frozen=True)
class ConversationFilter:
    agent_id: str | None = None
    archive_status: ArchiveStatus = "unarchived"
    summary_search: str | None = None
    order_by: ConversationOrder = "created_at"


async def add_conversation(session: AsyncSession, row: ConversationRow) -> ConversationRow:
    session.add(row)
    await session.flush()
    return row


async def get_conversation(session: AsyncSession, conversation_id: str) -> ConversationRow:
    return await row_or_not_found(session, ConversationRow, conversation_id, "conversation")


async def list_conversations(
    session: AsyncSession, found: ConversationFilter, page: Page
) -> list[ConversationRow]:
    """Ordered by `found.order_by`; hidden conversations are left out."""
    stmt = select(ConversationRow).where(ConversationRow.hidden.is_(False))
    if found.agent_id is not None:
        stmt = stmt.where(ConversationRow.agent_id == found.agent_id)
    if found.archive_status != "all":
        stmt = stmt.where(ConversationRow.archived.is_(found.archive_status == "archived"))
    if found.summary_search:
        pattern = f"%{escape_like(found.summary_search)}%"
        stmt = stmt.where(ConversationRow.summary.ilike(pattern, escape="\\"))
    return await fetch_page(session, stmt, _ORDERINGS[found.order_by], page)


async def delete_conversation(session: AsyncSession, row: ConversationRow) -> None:
    """The conversation, its messages and its summaries (its runs' records stay)."""
    history = History(row.agent_id, row.id)
    for table in (MessageRow, SummaryRow):
        await session.execute(
            delete(table).where(
                table.agent_id == history.agent_id,
                table.conversation_id == history.conversation_id,
            )
        )
    await session.delete(row)
    await session.flush()


async def copy_history(
    session: AsyncSession, source: History, target: History, through_id: str | None
) -> int:
    """Copy the source history's messages (up to and including `through_id`, if given) into
    the empty target history, keeping their sequence numbers, and its newest summary of
    what they cover; how many messages were copied."""
    stmt = select(MessageRow).where(
        MessageRow.agent_id == source.agent_id,
        MessageRow.conversation_id == source.conversation_id,
    )
    if through_id is not None:
        last = await session.get(MessageRow, through_id)
        if last is None or History(last.agent_id, last.conversation_id) != source:
            raise NotFound(f"message {through_id!r} is not in the history being forked")
        stmt = stmt.where(MessageRow.seq <= last.seq)
    rows = list((await session.execute(stmt.order_by(MessageRow.seq))).scalars())
    if rows:
        await session.execute(insert(MESSAGES), [_copied(row, target) for row in rows])
    await _copy_summary(session, source, target, rows[-1].seq if rows else 0)
    return len(rows)


def _copied(row: MessageRow, target: History) -> dict[str, object]:
    values = {column: getattr(row, column) for column in MESSAGE_COLUMNS}
    values.update(id=new_id("message"), conversation_id=target.conversation_id)
    return values


async def _copy_summary(
    session: AsyncSession, source: History, target: History, through_seq: int
) -> None:
    """The source's newest summary that covers no message past `through_seq`."""
    summary = (
        await session.execute(
            select(SummaryRow)
            .where(
                SummaryRow.agent_id == source.agent_id,
                SummaryRow.conversation_id == source.conversation_id,
                SummaryRow.through_seq <= through_seq,
            )
            .order_by(SummaryRow.through_seq.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if summary is None:
        return
    session.add(
        SummaryRow(
            id=new_id("summary"),
            agent_id=target.agent_id,
            conversation_id=target.conversation_id,
            content=summary.content,
            through_seq=summary.through_seq,
            message_count=summary.message_count,
            model=summary.model,
            created_at=summary.created_at,
        )
    )
    await session.flush()


# A cursor's keys are null when it names no conversation: the pager answers 404 then.
def _last_message_at_of(cursor: str) -> ColumnElement[Any]:
    """When the cursor's conversation was last sent a message."""
    when = func.coalesce(ConversationRow.last_message_at, _NEVER)
    return select(when).where(ConversationRow.id == cursor).scalar_subquery()


def _last_run_completion_of(cursor: str) -> ColumnElement[Any]:
    """When the cursor's conversation's latest finished run ended."""
    when = _last_run_completion(literal(cursor))
    return select(when).where(ConversationRow.id == cursor).scalar_subquery()


def _last_run_completion(conversation_id: Key) -> ColumnElement[Any]:
    """When the conversation's latest finished run ended (a column: each row's own)."""
    when = select(func.max(RunRow.completed_at)).where(RunRow.conversation_id == conversation_id)
    return func.coalesce(when.scalar_subquery(), _NEVER)


_ORDERINGS = {
    "created_at": by_creation(ConversationRow),
    "last_message_at": Ordering(
        (func.coalesce(ConversationRow.last_message_at, _NEVER), ConversationRow.id),
        lambda cursor: (_last_message_at_of(cursor), cursor),
    ),
    "last_run_completion": Ordering(
        (_last_run_completion(ConversationRow.id), ConversationRow.id),
        lambda cursor: (_last_run_completion_of(cursor), cursor),
    ),
}
