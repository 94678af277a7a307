"""Archival memory: passages, the archives that hold them, and searches over them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from troupe.schemas.common import EmbeddingConfig, InputModel, Metadata, OutputModel

MAX_PASSAGE_CHARS = 100_000  # one passage's text
MAX_QUERY_CHARS = 10_000  # one search's query
MAX_TOP_K = 1_000
MAX_BATCH = 1_000  # passages in one batch insert
MAX_TAGS = 100
Tag = Annotated[str, Field(min_length=1, max_length=255)]
Tags = list[Tag] | None
TagMatch = Literal["any", "all"]


def tags_field() -> Any:
    return Field(default=None, max_length=MAX_TAGS)


class Passage(OutputModel):
    """Letta's Passage, as both SDK lines read it."""

    id: str
    text: str
    archive_id: str | None = None
    agent_id: str | None = None  # 0.1.x: the agent that stored it
    tags: list[str] = Field(default_factory=list)
    metadata: Metadata | None = None
    embedding: list[float] | None = None
    embedding_config: EmbeddingConfig | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_deleted: bool = False
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    source_id: str | None = None


class PassageCreate(InputModel):
    """A passage for an agent's archival memory or an archive."""

    text: str = Field(min_length=1, max_length=MAX_PASSAGE_CHARS)
    tags: Tags = tags_field()
    metadata: Metadata | None = None
    created_at: datetime | None = None


class PassageBatch(InputModel):
    passages: list[PassageCreate] = Field(min_length=1, max_length=MAX_BATCH)


class PassageUpdate(InputModel):
    """0.1.x `PATCH .../archival-memory/{id}`: a new text is embedded again; an embedding
    sent with it must have the archive's dimension."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_PASSAGE_CHARS)
    tags: Tags = tags_field()
    metadata: Metadata | None = Field(default=None, alias="metadata_")
    embedding: list[float] | None = None


class ArchivalSearchResult(OutputModel):
    id: str
    content: str
    timestamp: str
    tags: list[str] = Field(default_factory=list)


class ArchivalSearchResponse(OutputModel):
    """1.x `GET /v1/agents/{id}/archival-memory/search`."""

    count: int
    results: list[ArchivalSearchResult]


class PassageSearch(InputModel):
    """`POST /v1/passages/search`."""

    query: str | None = Field(default=None, max_length=MAX_QUERY_CHARS)
    agent_id: str | None = None
    archive_id: str | None = None
    tags: Tags = tags_field()
    tag_match_mode: TagMatch = "any"
    start_date: datetime | None = None
    end_date: datetime | None = None
    limit: int = Field(default=50, ge=1, le=MAX_TOP_K)


class PassageSearchItem(OutputModel):
    passage: Passage
    score: float
    metadata: Metadata | None = None


class Archive(OutputModel):
    id: str
    name: str
    description: str | None = None
    metadata: Metadata | None = None
    embedding_config: EmbeddingConfig | None = None
    vector_db_provider: str = "native"
    created_at: datetime
    updated_at: datetime | None = None
    created_by_id: str | None = None
    last_updated_by_id: str | None = None


class ArchiveCreate(InputModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    metadata: Metadata | None = None
    embedding: str | None = Field(default=None, max_length=512)
    embedding_config: EmbeddingConfig | None = None


class ArchiveUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    metadata: Metadata | None = None
