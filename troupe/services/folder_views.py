"""Folder, file and file-view rows to the wire shapes of both SDK lines."""

from troupe.schemas.folders import AgentFile, FileMetadata, FilePassage, Folder, UploadJob
from troupe.store.agent_files import SeenFile
from troupe.store.file_tables import FilePassageRow, FileRow, FolderRow


def folder_view(row: FolderRow) -> Folder:
    return Folder(
        id=row.id,
        name=row.name,
        description=row.description,
        instructions=row.instructions,
        metadata=row.metadata_,
        embedding_config=row.embedding_config,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def file_view(row: FileRow, *, include_content: bool = False) -> FileMetadata:
    return FileMetadata(
        id=row.id,
        source_id=row.folder_id,
        folder_id=row.folder_id,
        file_name=row.file_name,
        original_file_name=row.original_file_name,
        file_path=None,
        file_type=row.file_type,
        file_size=row.file_size,
        file_creation_date=row.created_at.isoformat(),
        file_last_modified_date=row.updated_at.isoformat(),
        processing_status=row.processing_status,  # type: ignore[arg-type]
        error_message=row.error_message,
        total_chunks=row.total_chunks,
        chunks_embedded=row.chunks_embedded,
        content=row.content if include_content else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def job_view(row: FileRow) -> UploadJob:
    """The upload as the 0.1.x SDK's job: done once the file is processed."""
    status = {"completed": "completed", "error": "failed"}.get(row.processing_status, "running")
    return UploadJob(
        id=row.job_id,
        status=status,  # type: ignore[arg-type]
        metadata={
            "type": "embedding",
            "filename": row.file_name,
            "source_id": row.folder_id,
            "file_id": row.id,
            "num_passages": row.total_chunks,
        },
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.updated_at if status in ("completed", "failed") else None,
    )


def agent_file_view(seen: SeenFile) -> AgentFile:
    view = seen.view
    return AgentFile(
        id=view.id,
        agent_id=view.agent_id,
        file_id=view.file_id,
        file_name=seen.full_name,
        folder_id=view.folder_id,
        folder_name=seen.folder_name,
        is_open=view.is_open,
        last_accessed_at=view.last_accessed_at,
        start_line=view.start_line,
        end_line=view.end_line,
        visible_content=view.visible_content if view.is_open else None,
    )


def passage_view(row: FilePassageRow) -> FilePassage:
    return FilePassage(
        id=row.id,
        text=row.text,
        source_id=row.folder_id,
        file_id=row.file_id,
        created_at=row.created_at,
    )
