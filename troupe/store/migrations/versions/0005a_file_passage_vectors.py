"""File passages' embeddings stored as archival passages' are (float32 vectors, normalised,
with the embedder's handle), so one vector search serves both.

Revision ID: 0005a (a second step of migration 0005, folders and files)
"""

import json
import math
from typing import Any

import sqlalchemy as sa
from alembic import op

from troupe.store.tables import Vector

revision = "0005a"
down_revision = "0005"
branch_labels = None
depends_on = None


def _normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def upgrade() -> None:
    with op.batch_alter_table("file_passages") as batch:
        batch.add_column(sa.Column("vector", Vector()))
        batch.add_column(sa.Column("embedding_handle", sa.String(512)))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT p.id, p.embedding, f.embedding_config FROM file_passages p "
            "JOIN folders f ON f.id = p.folder_id WHERE p.embedding IS NOT NULL"
        )
    ).all()
    passages = sa.table(
        "file_passages",
        sa.column("id", sa.String()),
        sa.column("vector", Vector()),
        sa.column("embedding_handle", sa.String()),
    )
    for passage_id, embedding, config in rows:
        vector: Any = json.loads(embedding) if isinstance(embedding, str) else embedding
        settings: Any = json.loads(config) if isinstance(config, str) else config
        bind.execute(
            passages.update()
            .where(passages.c.id == passage_id)
            .values(vector=_normalised(vector), embedding_handle=(settings or {}).get("handle"))
        )
    with op.batch_alter_table("file_passages") as batch:
        batch.drop_column("embedding")
        batch.alter_column("vector", new_column_name="embedding")


def downgrade() -> None:
    with op.batch_alter_table("file_passages") as batch:
        batch.drop_column("embedding_handle")
        batch.drop_column("embedding")
        batch.add_column(sa.Column("embedding", sa.JSON()))
