"""Agents, memory blocks, tools, tags and the links between them.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("agent_type", sa.String(64), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("llm_config", JSON, nullable=False),
        sa.Column("embedding_config", JSON, nullable=False),
        sa.Column("tool_rules", JSON, nullable=False),
        sa.Column("metadata", JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_agents_name", "agents", ["name"])
    op.create_index("ix_agents_created_at_id", "agents", ["created_at", "id"])

    op.create_table(
        "blocks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("char_limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", JSON),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("is_template", sa.Boolean(), nullable=False),
        sa.Column("template_name", sa.String(255)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_blocks_label", "blocks", ["label"])
    op.create_index("ix_blocks_created_at_id", "blocks", ["created_at", "id"])

    op.create_table(
        "agent_blocks",
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE", name="fk_agent_blocks_agent_id_agents"),
            primary_key=True,
        ),
        sa.Column(
            "block_id",
            sa.String(64),
            sa.ForeignKey("blocks.id", ondelete="CASCADE", name="fk_agent_blocks_block_id_blocks"),
            primary_key=True,
        ),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("agent_id", "label", name="uq_agent_blocks_agent_id_label"),
    )
    op.create_index("ix_agent_blocks_block_id", "agent_blocks", ["block_id"])

    op.create_table(
        "tools",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("source_code", sa.Text()),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("json_schema", JSON, nullable=False),
        sa.Column("tool_type", sa.String(64), nullable=False),
        sa.Column("return_char_limit", sa.Integer(), nullable=False),
        sa.Column("metadata", JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_tools_name"),
    )
    op.create_index("ix_tools_created_at_id", "tools", ["created_at", "id"])

    op.create_table(
        "agent_tools",
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE", name="fk_agent_tools_agent_id_agents"),
            primary_key=True,
        ),
        sa.Column(
            "tool_id",
            sa.String(64),
            sa.ForeignKey("tools.id", ondelete="CASCADE", name="fk_agent_tools_tool_id_tools"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agent_tools_tool_id", "agent_tools", ["tool_id"])

    op.create_table(
        "agent_tags",
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE", name="fk_agent_tags_agent_id_agents"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(255), primary_key=True),
    )
    op.create_index("ix_agent_tags_tag", "agent_tags", ["tag"])


def downgrade() -> None:
    for table in ("agent_tags", "agent_tools", "tools", "agent_blocks", "blocks", "agents"):
        op.drop_table(table)
