"""Scheduled messages, and the callback a run POSTs to when it ends.

Revision ID: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scheduled_messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey(
                "agents.id", ondelete="CASCADE", name="fk_scheduled_messages_agent_id_agents"
            ),
            nullable=False,
        ),
        sa.Column("message", JSON, nullable=False),
        sa.Column("schedule", JSON, nullable=False),
        sa.Column("next_run_at", UTCDateTime()),
        sa.Column("last_run_id", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_scheduled_messages_agent_id", "scheduled_messages", ["agent_id"])
    op.create_index("ix_scheduled_messages_next_run_at", "scheduled_messages", ["next_run_at"])
    op.create_index(
        "ix_scheduled_messages_created_at_id", "scheduled_messages", ["created_at", "id"]
    )
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("callback_url", sa.Text()))
        runs.add_column(sa.Column("callback_sent_at", UTCDateTime()))
        runs.add_column(sa.Column("callback_status_code", sa.Integer()))
        runs.add_column(sa.Column("callback_error", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("callback_error")
        runs.drop_column("callback_status_code")
        runs.drop_column("callback_sent_at")
        runs.drop_column("callback_url")
    op.drop_table("scheduled_messages")
