"""MCP servers, and which tools call which server.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("server_type", sa.String(32), nullable=False),
        sa.Column("server_url", sa.Text()),
        sa.Column("command", sa.Text()),
        sa.Column("args", JSON, nullable=False),
        sa.Column("env", JSON),
        sa.Column("auth_header", sa.String(255)),
        sa.Column("auth_token", sa.Text()),
        sa.Column("custom_headers", JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_mcp_servers_name"),
    )
    op.create_index("ix_mcp_servers_created_at_id", "mcp_servers", ["created_at", "id"])
    op.create_table(
        "mcp_tools",
        sa.Column(
            "tool_id",
            sa.String(64),
            sa.ForeignKey("tools.id", ondelete="CASCADE", name="fk_mcp_tools_tool_id_tools"),
            primary_key=True,
        ),
        sa.Column(
            "mcp_server_id",
            sa.String(64),
            sa.ForeignKey(
                "mcp_servers.id", ondelete="CASCADE", name="fk_mcp_tools_mcp_server_id_mcp_servers"
            ),
            nullable=False,
        ),
        sa.Column("mcp_tool_name", sa.String(255), nullable=False),
    )
    op.create_index("ix_mcp_tools_mcp_server_id", "mcp_tools", ["mcp_server_id"])


def downgrade() -> None:
    op.drop_table("mcp_tools")
    op.drop_table("mcp_servers")
