"""Steps: when each began, how long its tools and its write to the store took, and the
feedback a user gave it.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("steps") as steps:
        steps.add_column(sa.Column("started_at", UTCDateTime(), nullable=True))
        steps.add_column(sa.Column("tools_ms", sa.Integer(), nullable=True))
        steps.add_column(sa.Column("store_ms", sa.Integer(), nullable=True))
        steps.add_column(sa.Column("feedback", sa.String(16), nullable=True))
        steps.add_column(sa.Column("tags", JSON, nullable=True))
        steps.create_index("ix_steps_created_at_id", ["created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("steps") as steps:
        steps.drop_index("ix_steps_created_at_id")
        for column in ("tags", "feedback", "store_ms", "tools_ms", "started_at"):
            steps.drop_column(column)
