"""Passages and archives as the API shows them."""

from troupe.schemas.common import EmbeddingConfig
from troupe.schemas.passages import ArchivalSearchResult, Archive, Passage
from troupe.store.tables import ArchiveRow, PassageRow


def passage_view(row: PassageRow, embedding_config: EmbeddingConfig | None = None) -> Passage:
    return Passage(
        id=row.id,
        text=row.text,
        archive_id=row.archive_id,
        agent_id=row.agent_id,
        tags=list(row.tags or []),
        metadata=row.metadata_,
        embedding=row.embedding,
        embedding_config=embedding_config,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def search_result_view(row: PassageRow) -> ArchivalSearchResult:
    return ArchivalSearchResult(
        id=row.id, content=row.text, timestamp=row.created_at.isoformat(), tags=list(row.tags)
    )


def archive_view(row: ArchiveRow) -> Archive:
    return Archive(
        id=row.id,
        name=row.name,
        description=row.description,
        metadata=row.metadata_,
        embedding_config=EmbeddingConfig.model_validate(row.embedding_config),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
