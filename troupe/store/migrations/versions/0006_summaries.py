"""Summaries of the history evicted from agents' context windows, and each agent's
`compaction_settings` and `memory_variables`.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005a"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("agents", sa.Column("compaction_settings", JSON))
    op.add_column("agents", sa.Column("memory_variables", JSON))
    op.create_table(
        "summaries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE", name="fk_summaries_agent_id_agents"),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("through_seq", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_summaries_agent_id_through_seq", "summaries", ["agent_id", "through_seq"])


def downgrade() -> None:
    op.drop_table("summaries")
    op.drop_column("agents", "memory_variables")
    op.drop_column("agents", "compaction_settings")
