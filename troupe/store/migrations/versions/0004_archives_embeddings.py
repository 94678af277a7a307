"""Archives shared by agents, passages with embeddings and tags.

Each agent's existing passages move into an archive of its own, attached to it; they keep
no embedding (their agent searches them by keyword until its embedding is changed).

Revision ID: 0004
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime, Vector

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "archives",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", JSON),
        sa.Column("embedding_config", JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_archives_name", "archives", ["name"])
    op.create_index("ix_archives_created_at_id", "archives", ["created_at", "id"])
    op.create_table(
        "agent_archives",
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey(
                "agents.id", ondelete="CASCADE", name="fk_agent_archives_agent_id_agents"
            ),
            primary_key=True,
        ),
        sa.Column(
            "archive_id",
            sa.String(64),
            sa.ForeignKey(
                "archives.id", ondelete="CASCADE", name="fk_agent_archives_archive_id_archives"
            ),
            primary_key=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_agent_archives_archive_id", "agent_archives", ["archive_id"])
    with op.batch_alter_table("passages") as batch:
        batch.add_column(sa.Column("archive_id", sa.String(64)))
        batch.add_column(sa.Column("tags", JSON))
        batch.add_column(sa.Column("metadata", JSON))
        batch.add_column(sa.Column("embedding", Vector()))
        batch.add_column(sa.Column("embedding_handle", sa.String(512)))
        batch.add_column(sa.Column("embedding_dim", sa.Integer()))
        batch.add_column(sa.Column("updated_at", UTCDateTime()))
    _move_passages_into_archives()
    with op.batch_alter_table("passages") as batch:
        batch.alter_column("archive_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("tags", existing_type=JSON, nullable=False)
        batch.alter_column("updated_at", existing_type=UTCDateTime(), nullable=False)
        batch.alter_column("agent_id", existing_type=sa.String(64), nullable=True)
        batch.drop_constraint("fk_passages_agent_id_agents", type_="foreignkey")
        batch.create_foreign_key(
            "fk_passages_agent_id_agents", "agents", ["agent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(
            "fk_passages_archive_id_archives",
            "archives",
            ["archive_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_passages_archive_id_created_at", ["archive_id", "created_at"])
    op.create_table(
        "passage_tags",
        sa.Column(
            "passage_id",
            sa.String(64),
            sa.ForeignKey(
                "passages.id", ondelete="CASCADE", name="fk_passage_tags_passage_id_passages"
            ),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(255), primary_key=True),
    )
    op.create_index("ix_passage_tags_tag", "passage_tags", ["tag"])


def _move_passages_into_archives() -> None:
    """One archive per agent that has passages, attached to it, holding them."""
    bind = op.get_bind()
    agents = sa.table(
        "agents", sa.column("id"), sa.column("name"), sa.column("embedding_config", JSON)
    )
    passages = sa.table(
        "passages",
        sa.column("agent_id"),
        sa.column("archive_id"),
        sa.column("tags", JSON),
        sa.column("created_at"),
        sa.column("updated_at"),
    )
    archives = sa.table(
        "archives",
        sa.column("id"),
        sa.column("name"),
        sa.column("embedding_config", JSON),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    links = sa.table(
        "agent_archives",
        sa.column("agent_id"),
        sa.column("archive_id"),
        sa.column("created_at", UTCDateTime()),
    )
    holders = sa.select(agents.c.id, agents.c.name, agents.c.embedding_config).where(
        agents.c.id.in_(sa.select(passages.c.agent_id).distinct())
    )
    now = datetime.now(UTC)
    for agent_id, name, embedding_config in bind.execute(holders).all():
        archive_id = f"archive-{uuid.uuid4()}"
        bind.execute(
            archives.insert().values(
                id=archive_id,
                name=f"{name}'s archival memory",
                embedding_config=embedding_config,
                created_at=now,
                updated_at=now,
            )
        )
        bind.execute(
            links.insert().values(agent_id=agent_id, archive_id=archive_id, created_at=now)
        )
        bind.execute(
            passages.update()
            .where(passages.c.agent_id == agent_id)
            .values(archive_id=archive_id, tags=[], updated_at=passages.c.created_at)
        )


def downgrade() -> None:
    op.drop_table("passage_tags")
    with op.batch_alter_table("passages") as batch:
        batch.drop_index("ix_passages_archive_id_created_at")
        batch.drop_constraint("fk_passages_archive_id_archives", type_="foreignkey")
        for column in (
            "archive_id",
            "tags",
            "metadata",
            "embedding",
            "embedding_handle",
            "embedding_dim",
            "updated_at",
        ):
            batch.drop_column(column)
    op.drop_table("agent_archives")
    op.drop_table("archives")
