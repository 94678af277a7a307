"""What an agent's history keeps beyond its messages: the summaries of what left its context
window (kept apart from tables.py, which holds the rest of the storage shape; the store
package imports this module, so the table is always part of `Base.metadata`)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
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

    __table_args__ = (Index(None, "agent_id", "through_seq"),)
