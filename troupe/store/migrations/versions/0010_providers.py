"""Model provider settings stored through the API (0.1.x `providers`).

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

from troupe.store.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("api_key", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_providers_name"),
    )
    op.create_index("ix_providers_created_at_id", "providers", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_providers_created_at_id", table_name="providers")
    op.drop_table("providers")
