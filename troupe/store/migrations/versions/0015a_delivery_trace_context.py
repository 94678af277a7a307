"""A mailbox delivery carries the W3C trace context of the tool call that sent it, so the
run that delivers it joins the sender's trace in any OpenTelemetry backend.

Revision ID: 0015a
"""

import sqlalchemy as sa
from alembic import op

revision = "0015a"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("traceparent", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("traceparent")
