"""Identities, and their links to agents and blocks; the images of user messages.

Revision ID: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _link(table: str, column: str, target: str) -> None:
    op.create_table(
        table,
        sa.Column(
            "identity_id",
            sa.String(64),
            sa.ForeignKey(
                "identities.id", ondelete="CASCADE", name=f"fk_{table}_identity_id_identities"
            ),
            nullable=False,
        ),
        sa.Column(
            column,
            sa.String(64),
            sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("identity_id", column, name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("identifier_key", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("identity_type", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(255)),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_identities_identifier_key", "identities", ["identifier_key"])
    op.create_index("ix_identities_created_at_id", "identities", ["created_at", "id"])
    _link("identity_agents", "agent_id", "agents")
    _link("identity_blocks", "block_id", "blocks")
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("images", JSON))


def downgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("images")
    op.drop_table("identity_blocks")
    op.drop_table("identity_agents")
    op.drop_table("identities")
