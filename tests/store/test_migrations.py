"""The migrations build exactly the tables the code declares, and can run again."""

import stat
from pathlib import Path
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


async def test_a_new_sqlite_store_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    """User tools run as other users: the database (and its WAL) must not be theirs to read."""
    path = tmp_path / "made-by-troupe" / "troupe.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate()
        await create_block(db, BlockCreate(label="private", value="history"))
        modes = {
            p.name: stat.S_IMODE(p.stat().st_mode) for p in [path.parent, *path.parent.iterdir()]
        }
    finally:
        await db.dispose()
    assert modes == {
        "made-by-troupe": 0o700,
        "troupe.db": 0o600,
        "troupe.db-wal": 0o600,
        "troupe.db-shm": 0o600,
    }
