"""Runs, steps, messages and archival passages: what agents say and do.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _agent_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "agent_id",
        sa.String(64),
        sa.ForeignKey("agents.id", ondelete="CASCADE", name=f"fk_{table}_agent_id_agents"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        _agent_fk("runs"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_reason", sa.String(64)),
        sa.Column("error", sa.Text()),
        sa.Column("request", JSON, nullable=False),
        sa.Column("usage", JSON, nullable=False),
        sa.Column("parent_run_id", sa.String(64)),
        sa.Column("trace_id", sa.String(64)),
        sa.Column("metadata", JSON),
        sa.Column("heartbeat_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("completed_at", UTCDateTime()),
    )
    for columns in (
        ["agent_id"],
        ["status"],
        ["parent_run_id"],
        ["trace_id"],
        ["created_at", "id"],
    ):
        op.create_index(f"ix_runs_{'_'.join(columns)}", "runs", columns)

    op.create_table(
        "steps",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("runs.id", ondelete="CASCADE", name="fk_steps_run_id_runs"),
            nullable=False,
        ),
        _agent_fk("steps"),
        sa.Column("model", sa.String(512), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("model_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_steps_run_id", "steps", ["run_id"])
    op.create_index("ix_steps_agent_id", "steps", ["agent_id"])

    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        _agent_fk("messages"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("message_type", sa.String(32), nullable=False),
        sa.Column("content", sa.Text()),
        sa.Column("name", sa.String(255)),
        sa.Column("tool_call_id", sa.String(128)),
        sa.Column("tool_name", sa.String(255)),
        sa.Column("tool_arguments", sa.Text()),
        sa.Column("tool_status", sa.String(16)),
        sa.Column("stdout", sa.Text()),
        sa.Column("stderr", sa.Text()),
        sa.Column("sender_agent_id", sa.String(64)),
        sa.Column("otid", sa.String(128)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("step_id", sa.String(64)),
        sa.Column("trace_id", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_id", "seq", name="uq_messages_agent_id_seq"),
    )
    op.create_index("ix_messages_run_id", "messages", ["run_id"])
    op.create_index("ix_messages_trace_id", "messages", ["trace_id"])

    op.create_table(
        "passages",
        sa.Column("id", sa.String(64), primary_key=True),
        _agent_fk("passages"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_passages_agent_id", "passages", ["agent_id"])


def downgrade() -> None:
    for table in ("passages", "messages", "steps", "runs"):
        op.drop_table(table)
