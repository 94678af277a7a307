"""A mailbox delivery carries the W3C `tracestate` of the span that sent it beside its
`traceparent` (0015a), so vendors' entries and OpenTelemetry's sampling threshold reach the
run that delivers it: the W3C specification asks every hop to pass it on.

Revision ID: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("tracestate", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("tracestate")
