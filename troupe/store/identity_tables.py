"""Identities (Letta's users and organisations of an application) and what they are linked
to: agents and blocks (kept apart from tables.py, like mcp_tables.py; the store package
imports this module, so the tables are always part of `Base.metadata`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow


class IdentityRow(Base):
    """One identity. `identifier_key` is the application's own key for it, unique within
    its project (the service checks it: a NULL project would not collide in a UNIQUE index);
    `properties` a list of {key, type, value}."""

    __tablename__ = "identities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier_key: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    identity_type: Mapped[str] = mapped_column(String(16))  # org, user, other
    project_id: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)


class IdentityAgentRow(Base):
    """An agent linked to an identity (both deleted links go with either side)."""

    __tablename__ = "identity_agents"

    identity_id: Mapped[str] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IdentityBlockRow(Base):
    """A block linked to an identity."""

    __tablename__ = "identity_blocks"

    identity_id: Mapped[str] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    block_id: Mapped[str] = mapped_column(
        ForeignKey("blocks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
