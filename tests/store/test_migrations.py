"""The migrations build exactly the tables the code declares, and can run again."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from troupe.store import Database
from troupe.store.tables import Base


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_migrations_match_the_tables_and_are_idempotent(
    backend: str, database_factory: Any
) -> None:
    db = Database(database_factory(backend))
    try:
        await db.migrate()
        await db.migrate()
        async with db.writer.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await db.dispose()
