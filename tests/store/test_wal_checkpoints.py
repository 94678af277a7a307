"""SQLite's WAL is checkpointed on a worker thread every few dozen commits (troupe.store.
wal_checkpoints), not inside a message's commit: the database file itself catches up with
the commits while the writer's own automatic checkpoint is only a far-off backstop."""

import asyncio
import sqlite3
import threading
from pathlib import Path

from troupe.schemas.blocks import BlockCreate
from troupe.services.blocks import create_block
from troupe.store import Database
from troupe.store.wal_checkpoints import BACKSTOP_PAGES, EVERY_COMMITS


def _blocks_in_main_file(path: Path) -> int:
    """Blocks in the database file alone, ignoring the WAL (what checkpoints copied)."""
    uri = f"file:{path}?immutable=1"
    connection = sqlite3.connect(uri, uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM blocks").fetchone()[0])
    except sqlite3.DatabaseError:  # the tables not in the file yet, or a checkpoint writing it
        return 0
    finally:
        connection.close()


def _wal_file(path: Path) -> Path:
    return path.with_name(f"{path.name}-wal")


async def test_commits_are_checkpointed_off_the_writer_and_nothing_is_left_behind(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    try:
        pages = await db.write_now(
            lambda c: c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        )
        assert pages == BACKSTOP_PAGES  # commits do not checkpoint themselves
        before = _blocks_in_main_file(path)
        # Commits go on until a checkpoint has copied at least an interval's worth into the
        # file, long before the writer's own backstop (10,000 pages: thousands of blocks
        # away). A checkpoint still running when the next is due is skipped, so on a busy
        # machine the first one may copy only part of an interval: the next one follows.
        created = 0
        while _blocks_in_main_file(path) - before < EVERY_COMMITS:
            assert created < 6 * EVERY_COMMITS, "no checkpoint reached the database file"
            await create_block(db, BlockCreate(label=f"wal{created}", value="v" * 100))
            created += 1
            await asyncio.sleep(0)
    finally:
        await db.dispose()
    assert not any(t.name.startswith("wal-checkpoint") for t in threading.enumerate())
    assert not _wal_file(path).exists()  # the last connection closed checkpoints it all
    assert _blocks_in_main_file(path) - before == created
