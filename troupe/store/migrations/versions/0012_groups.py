"""Groups of agents (round robin, supervisor, dynamic, sleep-time), and the kind of a
mailbox delivery (a sleep-time agent's transcript).

Revision ID: 0012
"""

import sqlalchemy as sa
from alembic import op

from troupe.store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("manager_type", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("manager_agent_id", sa.String(64), _fk("groups", "manager_agent_id", "agents")),
        sa.Column("termination_token", sa.String(255)),
        sa.Column("max_turns", sa.Integer()),
        sa.Column("sleeptime_agent_frequency", sa.Integer()),
        sa.Column("turns_counter", sa.Integer()),
        sa.Column("last_processed_message_id", sa.String(64)),
        sa.Column("max_message_buffer_length", sa.Integer()),
        sa.Column("min_message_buffer_length", sa.Integer()),
        sa.Column("project_id", sa.String(255)),
        sa.Column("hidden", sa.Boolean()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_groups_manager_type", "groups", ["manager_type"])
    op.create_index("ix_groups_manager_agent_id", "groups", ["manager_agent_id"])
    op.create_index("ix_groups_created_at_id", "groups", ["created_at", "id"])
    op.create_table(
        "group_agents",
        sa.Column("group_id", sa.String(64), _fk("group_agents", "group_id", "groups")),
        sa.Column("agent_id", sa.String(64), _fk("group_agents", "agent_id", "agents")),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "agent_id", name="pk_group_agents"),
    )
    op.create_index("ix_group_agents_agent_id", "group_agents", ["agent_id"])
    op.create_table(
        "group_blocks",
        sa.Column("group_id", sa.String(64), _fk("group_blocks", "group_id", "groups")),
        sa.Column("block_id", sa.String(64), _fk("group_blocks", "block_id", "blocks")),
        sa.PrimaryKeyConstraint("group_id", "block_id", name="pk_group_blocks"),
    )
    op.create_index("ix_group_blocks_block_id", "group_blocks", ["block_id"])
    op.create_table(
        "group_runs",
        sa.Column("run_id", sa.String(64), _fk("group_runs", "run_id", "runs"), primary_key=True),
        sa.Column(
            "group_id", sa.String(64), _fk("group_runs", "group_id", "groups"), nullable=False
        ),
    )
    op.create_index("ix_group_runs_group_id", "group_runs", ["group_id"])
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.add_column(sa.Column("kind", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as deliveries:
        deliveries.drop_column("kind")
    op.drop_table("group_runs")
    op.drop_table("group_blocks")
    op.drop_table("group_agents")
    op.drop_table("groups")
