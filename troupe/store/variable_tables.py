"""The variables an agent's tools find in their environment (Letta's agent environment
variables, shown as an agent's `secrets`). Kept apart from tables.py, like identity_tables.py;
the store package imports this module, so the table is always part of `Base.metadata`."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow

MAX_VARIABLE_NAME = 255


class AgentVariableRow(Base):
    """One variable of one agent: its name is unique within the agent. Deleted with the
    agent (the foreign key cascades), so a deleted agent's secrets do not outlive it."""

    __tablename__ = "agent_environment_variables"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # agent-env-<uuid>
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_VARIABLE_NAME))
    value: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Its leading column serves every lookup, which is by agent.
    __table_args__ = (UniqueConstraint("agent_id", "key"),)
