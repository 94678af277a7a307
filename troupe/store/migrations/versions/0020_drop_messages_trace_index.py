"""Drop `ix_messages_trace_id`: no query reads messages by trace id (a trace's messages are
found through its runs: store.traces, step_rows), yet every message insert wrote the index,
and its keys (random trace ids) landed on a random page each time: one more B-tree page
to write per message commit, on SQLite (a WAL frame) and PostgreSQL alike.

Revision ID: 0020
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_trace_id", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_trace_id", "messages", ["trace_id"])
