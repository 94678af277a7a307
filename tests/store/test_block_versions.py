"""The one versioned block update (troupe.store.blocks.update_block_value) that REST edits
and the memory tools share."""

from troupe.schemas.blocks import BlockCreate
from troupe.services.blocks import create_block
from troupe.store import Database
from troupe.store.blocks import get_block, update_block_value


async def stored(store: Database, block_id: str) -> tuple[str, int, int]:
    async with store.read() as session:
        row = await get_block(session, block_id)
        return row.value, row.version, row.char_limit


async def test_an_update_lands_only_on_the_version_it_was_made_from(store: Database) -> None:
    block = await create_block(store, BlockCreate(label="notes", value="one"))
    async with store.write() as session:
        assert await update_block_value(session, block.id, expected_version=1, value="two")
    async with store.write() as session:
        stale = await update_block_value(
            session, block.id, expected_version=1, value="three", char_limit=10
        )
    assert not stale
    assert await stored(store, block.id) == ("two", 2, block.limit)


async def test_the_version_counts_changes_of_the_value(store: Database) -> None:
    block = await create_block(store, BlockCreate(label="notes", value="same"))
    async with store.write() as session:
        assert await update_block_value(
            session, block.id, expected_version=None, value="same", char_limit=99
        )
        assert await update_block_value(session, block.id, expected_version=None, value="new")
        assert not await update_block_value(
            session, "block-missing", expected_version=None, value="x"
        )
    assert await stored(store, block.id) == ("new", 2, 99)
