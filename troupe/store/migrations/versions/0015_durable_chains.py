"""Send-and-wait chains that survive a crash: which waiting call a run answers, and which
process executes a run (its liveness is that process's advisory lock on PostgreSQL).

Revision ID: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("reply_to_call", sa.String(128)))
        runs.add_column(sa.Column("owner", sa.String(64)))
    op.create_index("ix_runs_reply_to_call", "runs", ["reply_to_call"])


def downgrade() -> None:
    op.drop_index("ix_runs_reply_to_call", table_name="runs")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("owner")
        runs.drop_column("reply_to_call")
