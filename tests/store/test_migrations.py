"""The migrations build exactly the tables the code declares, and can run again."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from troupe.schemas.blocks import BlockCreate
from troupe.services.blocks import create_block
from troupe.store import Database
from troupe.store.db import alembic_config
from troupe.store.tables import Base, BlockRow


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_migrations_match_the_tables_and_are_idempotent(
    backend: str, database_factory: Any
) -> None:
    db = Database(database_factory(backend))
    try:
        await db.migrate()
        block = await create_block(db, BlockCreate(label="kept", value="across migrations"))
        await db.migrate()  # a second start: nothing to do, nothing lost

        async with db.writer.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
            revision = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        assert diff == []
        assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(BlockRow)) == 1
            assert (await session.get(BlockRow, block.id)) is not None
    finally:
        await db.dispose()
