"""Folders (Letta's "sources") and their files, as both SDK lines send and read them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from troupe.schemas.common import EmbeddingConfig, InputModel, Metadata, OutputModel, metadata_field

ProcessingStatus = Literal["pending", "parsing", "embedding", "completed", "error"]
DuplicateHandling = Literal["skip", "error", "suffix", "replace"]


class FolderCreate(InputModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    instructions: str | None = None
    metadata: Metadata | None = metadata_field()
    embedding: str | None = Field(default=None, max_length=512)
    embedding_chunk_size: int | None = Field(default=None, ge=16, le=100_000)
    embedding_config: EmbeddingConfig | None = None


class FolderUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    instructions: str | None = None
    metadata: Metadata | None = metadata_field()
    embedding_config: EmbeddingConfig | None = None


class Folder(OutputModel):
    """1.x `Folder`, 0.1.x `Source`: the same fields."""

    id: str
    name: str
    description: str | None = None
    instructions: str | None = None
    metadata: Metadata | None = None
    embedding_config: dict[str, Any]
    vector_db_provider: str = "native"
    created_at: datetime
    updated_at: datetime


class FileMetadata(OutputModel):
    """A file of a folder (`FileMetadata`; 1.x reads it as the upload/list/retrieve response)."""

    id: str
    source_id: str
    folder_id: str
    file_name: str
    original_file_name: str
    file_path: str | None = None
    file_type: str
    file_size: int
    file_creation_date: str | None = None
    file_last_modified_date: str | None = None
    processing_status: ProcessingStatus
    error_message: str | None = None
    total_chunks: int
    chunks_embedded: int
    content: str | None = None
    is_deleted: bool = False
    created_at: datetime
    updated_at: datetime


class AgentFile(OutputModel):
    """A file as one agent sees it (`GET /v1/agents/{id}/files`)."""

    id: str
    agent_id: str
    file_id: str
    file_name: str
    folder_id: str
    folder_name: str
    is_open: bool
    last_accessed_at: datetime | None = None
    start_line: int | None = None
    end_line: int | None = None
    visible_content: str | None = None


class AgentFilesPage(OutputModel):
    """The 1.x SDK pages an agent's files by `files` and `has_more`."""

    files: list[AgentFile]
    next_cursor: str | None = None
    has_more: bool = False


class UploadJob(OutputModel):
    """What the 0.1.x SDK's upload answers: a job (`GET /v1/jobs/{id}` reads it again)."""

    id: str
    status: Literal["created", "running", "completed", "failed", "pending"]
    job_type: str = "job"
    metadata: Metadata | None = None
    created_at: datetime
    updated_at: datetime | None = None
    completed_at: datetime | None = None


class FilePassage(OutputModel):
    """A chunk of a file (0.1.x `GET /v1/sources/{id}/passages`)."""

    id: str
    text: str
    source_id: str
    file_id: str
    agent_id: str | None = None
    metadata: Metadata | None = None
    created_at: datetime
    is_deleted: bool = False
