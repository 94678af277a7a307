"""Conversations: histories of an agent's beside its default one (Letta 1.x).

Messages and summaries say which history they belong to ("" for the default one), each
history numbering its own rows; a run says which conversation it ran in.

Revision ID: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE", name="fk_conversations_agent_id_agents"),
            nullable=False,
        ),
        sa.Column("description", sa.Text()),
        sa.Column("summary", sa.Text()),
        sa.Column("model", sa.String(512)),
        sa.Column("model_settings", JSON),
        sa.Column("context_window_limit", sa.Integer()),
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("archived_at", UTCDateTime()),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_message_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_conversations_agent_id", "conversations", ["agent_id"])
    op.create_index("ix_conversations_created_at_id", "conversations", ["created_at", "id"])
    with op.batch_alter_table("messages") as messages:
        messages.add_column(
            sa.Column("conversation_id", sa.String(64), nullable=False, server_default="")
        )
        messages.drop_constraint("uq_messages_agent_id_seq", type_="unique")
        messages.create_unique_constraint(
            "uq_messages_agent_id_conversation_id_seq", ["agent_id", "conversation_id", "seq"]
        )
    with op.batch_alter_table("summaries") as summaries:
        summaries.add_column(
            sa.Column("conversation_id", sa.String(64), nullable=False, server_default="")
        )
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("conversation_id", sa.String(64)))
    op.create_index("ix_runs_conversation_id", "runs", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_conversation_id", "runs")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("conversation_id")
    with op.batch_alter_table("summaries") as summaries:
        summaries.drop_column("conversation_id")
    op.execute("DELETE FROM messages WHERE conversation_id != ''")
    with op.batch_alter_table("messages") as messages:
        messages.drop_constraint("uq_messages_agent_id_conversation_id_seq", type_="unique")
        messages.create_unique_constraint("uq_messages_agent_id_seq", ["agent_id", "seq"])
        messages.drop_column("conversation_id")
    op.drop_table("conversations")
