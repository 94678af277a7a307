"""`passage_changes`: a log of which passage changed at each `archives.vectors_version`,
written by the same triggers that move the version (they replace those of 0018), on SQLite
and PostgreSQL alike, whoever writes. Searches that hold an archive in memory
(troupe.store.vector_cache, troupe.store.word_index) read the passages logged since the
version they hold instead of the whole archive.

Every move of a version writes exactly one row under that version (primary key (archive,
version)), in the same transaction: a reader that finds fewer rows than versions between
what it holds and the archive's version (pruned, or moved before this migration) reads the
archive in full. On PostgreSQL the version is moved by an UPDATE of the archive's row, whose
lock orders concurrent writers: a version is never reused or skipped, and all versions up to
one a reader sees are committed. The log keeps the last `KEEP` versions of each archive:
every `PRUNE_EVERY`th row deletes those older.

Revision ID: 0019
"""

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

KEEP = 10_000
PRUNE_EVERY = 1_000
# What the in-memory search reads of a passage: a change of any of these is logged.
_CHANGES = "embedding, embedding_handle, embedding_dim, archive_id, text, created_at"

_SQLITE_BUMP = (
    "UPDATE archives SET vectors_version = vectors_version + 1 WHERE id = {row}.archive_id{cond}; "
    "INSERT INTO passage_changes (archive_id, version, passage_id) "
    "SELECT id, vectors_version, {row}.id FROM archives WHERE id = {row}.archive_id{cond};"
)
_MOVED = " AND old.archive_id <> new.archive_id"
SQLITE = [
    "CREATE TRIGGER passages_vectors_insert AFTER INSERT ON passages "
    f"BEGIN {_SQLITE_BUMP.format(row='new', cond='')} END",
    "CREATE TRIGGER passages_vectors_delete AFTER DELETE ON passages "
    f"BEGIN {_SQLITE_BUMP.format(row='old', cond='')} END",
    # A passage moved to another archive leaves the old one too.
    f"CREATE TRIGGER passages_vectors_update AFTER UPDATE OF {_CHANGES} ON passages "
    f"BEGIN {_SQLITE_BUMP.format(row='old', cond=_MOVED)} "
    f"{_SQLITE_BUMP.format(row='new', cond='')} END",
    f"CREATE TRIGGER passage_changes_prune AFTER INSERT ON passage_changes "
    f"WHEN new.version % {PRUNE_EVERY} = 0 BEGIN DELETE FROM passage_changes "
    f"WHERE archive_id = new.archive_id AND version <= new.version - {KEEP}; END",
]

_PG_BUMP = (
    "UPDATE archives SET vectors_version = vectors_version + 1 WHERE id = {row}.archive_id "
    "RETURNING vectors_version INTO v; "
    "IF FOUND THEN INSERT INTO passage_changes (archive_id, version, passage_id) "
    "VALUES ({row}.archive_id, v, {row}.id); END IF;"
)
POSTGRES = [
    "CREATE OR REPLACE FUNCTION troupe_passage_vectors_changed() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE v integer; BEGIN "
    "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.archive_id <> NEW.archive_id) THEN "
    f"{_PG_BUMP.format(row='OLD')} END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_PG_BUMP.format(row='NEW')} END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER passages_vectors_changed AFTER INSERT OR DELETE OR UPDATE OF {_CHANGES} "
    "ON passages FOR EACH ROW EXECUTE FUNCTION troupe_passage_vectors_changed()",
    "CREATE FUNCTION troupe_passage_changes_prune() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM passage_changes WHERE archive_id = NEW.archive_id "
    f"AND version <= NEW.version - {KEEP}; RETURN NULL; END $$",
    "CREATE TRIGGER passage_changes_prune AFTER INSERT ON passage_changes FOR EACH ROW "
    f"WHEN (NEW.version % {PRUNE_EVERY} = 0) EXECUTE FUNCTION troupe_passage_changes_prune()",
]


def _drop_passage_triggers(sqlite: bool) -> None:
    if sqlite:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS passages_vectors_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS passages_vectors_changed ON passages")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "passage_changes",
        sa.Column(
            "archive_id",
            sa.String(64),
            sa.ForeignKey("archives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("passage_id", sa.String(64), nullable=False),
    )
    _drop_passage_triggers(sqlite)
    for statement in SQLITE if sqlite else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_passage_triggers(sqlite)
    if not sqlite:
        op.execute("DROP TRIGGER IF EXISTS passage_changes_prune ON passage_changes")
        op.execute("DROP FUNCTION IF EXISTS troupe_passage_changes_prune()")
    op.drop_table("passage_changes")
    previous = import_module("troupe.store.migrations.versions.0018_archive_vectors_version")
    for statement in previous.SQLITE if sqlite else previous.POSTGRES:
        op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
