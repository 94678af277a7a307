"""What troupe connects to: MCP servers and the tools read from them, and model providers
stored through the API (kept apart from tables.py, which holds the rest of the storage
shape; the store package imports this module, so the tables are always part of
`Base.metadata`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from troupe.store.tables import Base, utcnow


class McpServerRow(Base):
    """An MCP server troupe connects to. `env`, `auth_token` and the values of
    `custom_headers` are secrets: written by the API, never shown by it."""

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    server_type: Mapped[str] = mapped_column(String(32))  # stdio, sse, streamable_http
    server_url: Mapped[str | None] = mapped_column(Text)
    command: Mapped[str | None] = mapped_column(Text)
    args: Mapped[list[Any]]
    env: Mapped[dict[str, Any] | None]
    auth_header: Mapped[str | None] = mapped_column(String(255))
    auth_token: Mapped[str | None] = mapped_column(Text)
    custom_headers: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)


class McpToolRow(Base):
    """A troupe tool that calls a tool of an MCP server (by its name there)."""

    __tablename__ = "mcp_tools"

    tool_id: Mapped[str] = mapped_column(
        ForeignKey("tools.id", ondelete="CASCADE"), primary_key=True
    )
    mcp_server_id: Mapped[str] = mapped_column(
        ForeignKey("mcp_servers.id", ondelete="CASCADE"), index=True
    )
    mcp_tool_name: Mapped[str] = mapped_column(String(255))


class ProviderRow(Base):
    """Settings of a model provider stored through the API (0.1.x `providers`). The key is
    write-only: stored here, never returned by the API, never logged."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    api_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index(None, "created_at", "id"),)
