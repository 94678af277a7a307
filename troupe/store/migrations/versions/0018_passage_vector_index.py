"""sqlite-vec's vector index of archival passages on SQLite (see troupe.store.vector_index):
a `vec0` table per common dimension, filled from the passages and kept by triggers. Nothing
on PostgreSQL, nor on a SQLite that cannot load sqlite-vec (searches scan exactly there).

Revision ID: 0018
"""

import sqlalchemy as sa
from alembic import op

from troupe.store.vector_index import INDEXED_DIMS, create_statements, drop_statements

revision = "0018"
down_revision = "0011"
branch_labels = None
depends_on = None


def _has_sqlite_vec() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    try:
        bind.execute(sa.text("SELECT vec_version()"))
    except sa.exc.OperationalError:
        return False
    return True


def upgrade() -> None:
    if _has_sqlite_vec():
        for dim in INDEXED_DIMS:
            for statement in create_statements(dim):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for dim in INDEXED_DIMS:
            for statement in drop_statements(dim):
                op.execute(statement)
