"""The images of user messages (letta-client 1.x image content parts), as sent.

Revision ID: 0015a
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015a"
down_revision = "0015"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("images", JSON))


def downgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("images")
