"""Groups of agents (Letta's multi-agent groups): the group, its members in speaking order,
the blocks it shares with them, and the runs its turns made (kept apart from tables.py; the
store package imports this module, so the tables are always part of `Base.metadata`)."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow


class GroupRow(Base):
    """A group and its manager's settings (which apply depends on `manager_type`)."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manager_type: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # supervisor, dynamic: the agent that leads; sleeptime: the primary agent.
    manager_agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), index=True
    )
    termination_token: Mapped[str | None] = mapped_column(String(255))
    max_turns: Mapped[int | None] = mapped_column(Integer)
    sleeptime_agent_frequency: Mapped[int | None] = mapped_column(Integer)
    # sleeptime: the primary's turns counted so far, and the last message handed over.
    turns_counter: Mapped[int | None] = mapped_column(Integer)
    last_processed_message_id: Mapped[str | None] = mapped_column(String(64))
    max_message_buffer_length: Mapped[int | None] = mapped_column(Integer)
    min_message_buffer_length: Mapped[int | None] = mapped_column(Integer)
    project_id: Mapped[str | None] = mapped_column(String(255))
    hidden: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)


class GroupAgentRow(Base):
    """A member of a group; `position` is its place in the speaking order."""

    __tablename__ = "group_agents"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class GroupBlockRow(Base):
    """A block the group shares with all its members (attached to each of them too)."""

    __tablename__ = "group_blocks"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    block_id: Mapped[str] = mapped_column(
        ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class GroupRunRow(Base):
    """A run one of the group's turns made: the group's messages are those runs' messages."""

    __tablename__ = "group_runs"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
