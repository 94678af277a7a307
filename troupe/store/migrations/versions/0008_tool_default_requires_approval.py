"""Tools: whether a tool needs a human's approval on every agent it is attached to
(Letta's `default_requires_approval`).

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as tools:
        tools.add_column(
            sa.Column(
                "default_requires_approval", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tools") as tools:
        tools.drop_column("default_requires_approval")
