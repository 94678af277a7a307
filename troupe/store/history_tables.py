"""What an agent's history keeps beyond its messages: the summaries of what left its context
window, and its conversations (histories beside its default one). Kept apart from
tables.py, which holds the rest of the storage shape; the store
package imports this module, so the table is always part of `Base.metadata`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow


class SummaryRow(Base):
    """A summary of an agent's history up to `through_seq`: the messages evicted from its
    context window, folded into the summary before it (so the newest row of an agent holds
    everything evicted so far). The messages themselves stay stored."""

    __tablename__ = "summaries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text)
    through_seq: Mapped[int] = mapped_column(Integer)
    # Messages the summary covers, all summaries before it included.
    message_count: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The history summarised: "" is the agent's default one, else a conversation's id.
    conversation_id: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (Index(None, "agent_id", "through_seq"),)


class ConversationRow(Base):
    """A conversation (Letta 1.x): a history of an agent's beside its default one, with runs
    of its own. It shares the agent's blocks, tools and settings; its messages are the
    agent's rows with `conversation_id` set to its id."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(512))
    model_settings: Mapped[dict[str, Any] | None]
    context_window_limit: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    archived_at: Mapped[datetime | None]
    # Left out of listings (Letta's `hidden`, e.g. a fork made for a side question).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_message_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)
