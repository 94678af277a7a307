"""`archives.vectors_version`, moved on by triggers whenever a passage of the archive is
added, re-embedded, moved or deleted, on SQLite and PostgreSQL alike (whatever writes it:
the store, a cascade, another process). Searches keep each archive's vectors in memory
(troupe.store.vector_cache) and read them again when the version has moved.

Revision ID: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015a"
branch_labels = None
depends_on = None

_BUMP = "UPDATE archives SET vectors_version = vectors_version + 1 WHERE id = {row}.archive_id"
_CHANGES = "embedding, embedding_handle, embedding_dim, archive_id, text"

SQLITE = [
    f"CREATE TRIGGER passages_vectors_insert AFTER INSERT ON passages "
    f"BEGIN {_BUMP.format(row='new')}; END",
    f"CREATE TRIGGER passages_vectors_delete AFTER DELETE ON passages "
    f"BEGIN {_BUMP.format(row='old')}; END",
    f"CREATE TRIGGER passages_vectors_update AFTER UPDATE OF {_CHANGES} ON passages "
    f"BEGIN {_BUMP.format(row='old')}; {_BUMP.format(row='new')}; END",
]
POSTGRES = [
    "CREATE FUNCTION troupe_passage_vectors_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN IF TG_OP <> 'INSERT' THEN {_BUMP.format(row='OLD')}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_BUMP.format(row='NEW')}; END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER passages_vectors_changed AFTER INSERT OR DELETE OR UPDATE OF {_CHANGES} "
    "ON passages FOR EACH ROW EXECUTE FUNCTION troupe_passage_vectors_changed()",
]


def upgrade() -> None:
    op.add_column(
        "archives",
        sa.Column("vectors_version", sa.Integer(), nullable=False, server_default="0"),
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS passages_vectors_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS passages_vectors_changed ON passages")
        op.execute("DROP FUNCTION IF EXISTS troupe_passage_vectors_changed()")
    with op.batch_alter_table("archives") as batch:
        batch.drop_column("vectors_version")
