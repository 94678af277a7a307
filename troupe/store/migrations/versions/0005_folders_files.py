"""Folders and files: uploaded documents, their chunks, and which agents see them.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from troupe.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _fk(table: str, column: str, target: str) -> sa.Column[str]:
    return sa.Column(
        column,
        sa.String(64),
        sa.ForeignKey(f"{target}.id", ondelete="CASCADE", name=f"fk_{table}_{column}_{target}"),
        nullable=False,
        primary_key=table == "agent_folders",
    )


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("instructions", sa.Text()),
        sa.Column("embedding_config", JSON, nullable=False),
        sa.Column("metadata", JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_folders_name"),
    )
    op.create_index("ix_folders_created_at_id", "folders", ["created_at", "id"])

    op.create_table(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        _fk("files", "folder_id", "folders"),
        sa.Column("file_name", sa.String(512), nullable=False),
        sa.Column("original_file_name", sa.String(512), nullable=False),
        sa.Column("file_type", sa.String(128), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("processing_status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text()),
        sa.Column("total_chunks", sa.Integer(), nullable=False),
        sa.Column("chunks_embedded", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("folder_id", "file_name", name="uq_files_folder_id_file_name"),
        sa.UniqueConstraint("job_id", name="uq_files_job_id"),
    )
    op.create_index("ix_files_created_at_id", "files", ["created_at", "id"])

    op.create_table(
        "file_passages",
        sa.Column("id", sa.String(64), primary_key=True),
        _fk("file_passages", "file_id", "files"),
        _fk("file_passages", "folder_id", "folders"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_file_passages_file_id", "file_passages", ["file_id"])
    op.create_index("ix_file_passages_folder_id", "file_passages", ["folder_id"])

    op.create_table(
        "agent_folders",
        _fk("agent_folders", "agent_id", "agents"),
        _fk("agent_folders", "folder_id", "folders"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_agent_folders_folder_id", "agent_folders", ["folder_id"])

    op.create_table(
        "agent_files",
        sa.Column("id", sa.String(64), primary_key=True),
        _fk("agent_files", "agent_id", "agents"),
        _fk("agent_files", "file_id", "files"),
        _fk("agent_files", "folder_id", "folders"),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("visible_content", sa.Text()),
        sa.Column("start_line", sa.Integer()),
        sa.Column("end_line", sa.Integer()),
        sa.Column("last_accessed_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_id", "file_id", name="uq_agent_files_agent_id_file_id"),
    )
    op.create_index("ix_agent_files_file_id", "agent_files", ["file_id"])
    op.create_index("ix_agent_files_folder_id", "agent_files", ["folder_id"])


def downgrade() -> None:
    for table in ("agent_files", "agent_folders", "file_passages", "files", "folders"):
        op.drop_table(table)
