"""Messages sent to agents at a time or on a cron schedule (kept apart from tables.py, which
holds the rest of the storage shape; the store package imports this module, so the table is
always part of `Base.metadata`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow


class ScheduledMessageRow(Base):
    """A message sent to an agent at a time (one-time) or on a cron schedule (recurring).
    Firing claims the row, records the run and moves `next_run_at` on in one transaction, so
    each occurrence runs exactly once however many processes watch the table."""

    __tablename__ = "scheduled_messages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    # What to send: messages, callback_url, include_return_message_types, max_steps.
    message: Mapped[dict[str, Any]]
    # The schedule as the client gave it: {"type": "one-time", "scheduled_at": ms} or
    # {"type": "recurring", "cron_expression": "..."}.
    schedule: Mapped[dict[str, Any]]
    # When it fires next (a one-time message is removed once it has fired).
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)
