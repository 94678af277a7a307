"""The durable mailbox of cross-agent deliveries.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "target_agent_id",
            sa.String(64),
            sa.ForeignKey(
                "agents.id", ondelete="CASCADE", name="fk_deliveries_target_agent_id_agents"
            ),
            nullable=False,
        ),
        sa.Column("sender_agent_id", sa.String(64)),
        sa.Column("sender_run_id", sa.String(64)),
        sa.Column("trace_id", sa.String(64)),
        sa.Column("chain", JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("available_at", UTCDateTime(), nullable=False),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("claimed_until", UTCDateTime()),
        sa.Column("result_run_id", sa.String(64)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
    )
    op.create_index("ix_deliveries_target_agent_id", "deliveries", ["target_agent_id"])
    op.create_index("ix_deliveries_trace_id", "deliveries", ["trace_id"])
    op.create_index("ix_deliveries_status_available_at", "deliveries", ["status", "available_at"])


def downgrade() -> None:
    op.drop_table("deliveries")
