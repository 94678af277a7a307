"""Tools: the JSON schema of a tool's arguments as one model (Letta's `args_json_schema`,
letta-client's `args_schema`), from which its parameters and, where it runs, its argument
classes are made.

Revision ID: 0023
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tools") as tools:
        tools.add_column(sa.Column("args_json_schema", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tools") as tools:
        tools.drop_column("args_json_schema")
