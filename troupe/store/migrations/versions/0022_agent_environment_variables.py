"""Each agent's variables for its tools (Letta's `secrets`, formerly
`tool_exec_environment_variables`): one row per agent and name, deleted with the agent.

Revision ID: 0022
"""

import sqlalchemy as sa
from alembic import op

from troupe.store.tables import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_environment_variables",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey(
                "agents.id",
                ondelete="CASCADE",
                name="fk_agent_environment_variables_agent_id_agents",
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_id", "key", name="uq_agent_environment_variables_agent_id_key"),
    )


def downgrade() -> None:
    op.drop_table("agent_environment_variables")
