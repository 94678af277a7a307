"""Migration 0005a keeps the embeddings of files uploaded before it: the JSON vectors of
migration 0005 become stored vectors (normalised, with their folder's embedder handle)."""

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text

from troupe.store import Database
from troupe.store.db import alembic_config
from troupe.store.file_tables import FilePassageRow

NOW = "CURRENT_TIMESTAMP"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_embeddings_stored_before_0005a_are_kept(backend: str, database_factory: Any) -> None:
    db = Database(database_factory(backend))
    json_type = "JSONB" if backend == "postgres" else "TEXT"

    def before_0005a(conn: Connection) -> None:
        """A store at 0005 holding a folder, a file and its passages as 0005 stored them."""
        command.upgrade(alembic_config(conn), "0005")
        conn.execute(
            text(
                "INSERT INTO folders (id, name, embedding_config, created_at, updated_at) "
                f"VALUES ('source-1', 'f', CAST(:c AS {json_type}), {NOW}, {NOW})"
            ),
            {"c": json.dumps({"handle": "local/all-MiniLM-L6-v2"})},
        )
        conn.execute(
            text(
                "INSERT INTO files (id, folder_id, file_name, original_file_name, file_type, "
                "file_size, content, processing_status, total_chunks, chunks_embedded, job_id, "
                "created_at, updated_at) VALUES ('file-1', 'source-1', 'a.txt', 'a.txt', "
                f"'text/plain', 1, 'x', 'completed', 2, 1, 'job-1', {NOW}, {NOW})"
            )
        )
        for seq, vector in enumerate([[3.0, 4.0], None]):
            conn.execute(
                text(
                    "INSERT INTO file_passages (id, file_id, folder_id, seq, text, embedding, "
                    f"created_at) VALUES (:id, 'file-1', 'source-1', :seq, 'x', "
                    f"CAST(:e AS {json_type}), {NOW})"
                ),
                {"id": f"passage-{seq}", "seq": seq, "e": json.dumps(vector) if vector else None},
            )

    try:
        async with db.writer.begin() as conn:
            await conn.run_sync(before_0005a)
        await db.migrate()
        async with db.read() as session:
            embedded = await session.get(FilePassageRow, "passage-0")
            plain = await session.get(FilePassageRow, "passage-1")
        assert embedded is not None
        assert plain is not None
        assert embedded.embedding == pytest.approx([0.6, 0.8])
        assert embedded.embedding_handle == "local/all-MiniLM-L6-v2"
        assert (plain.embedding, plain.embedding_handle) == (None, None)
    finally:
        await db.dispose()
