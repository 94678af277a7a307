"""A block edit with `expected_version` is one guarded UPDATE: of two edits made from the
same version, exactly one lands, even from two server processes on one PostgreSQL
database (a read, then a write, let both land)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.servers import ServerProcess

WAIT_S = 30


@pytest.fixture
def postgres_url(database_factory: Any) -> str:
    return str(database_factory("postgres"))


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    servers = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            servers.append(ServerProcess(postgres_url, tmp_path / name).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        yield conn
    finally:
        await conn.close()


async def _until_waiting_for_a_lock(conn: asyncpg.Connection, count: int) -> None:
    """Until `count` sessions of this database wait for a row lock (both PATCHes have read
    the block and are at their UPDATE)."""
    for _ in range(WAIT_S * 100):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} requests reached their UPDATE")


async def test_two_processes_editing_from_one_version_one_wins_the_other_gets_409(
    two_servers: list[ServerProcess], database: asyncpg.Connection, postgres_url: str
) -> None:
    async with httpx.AsyncClient(timeout=WAIT_S) as http:
        created = await http.post(
            f"{two_servers[0].url}/v1/blocks/", json={"label": "plan", "value": "v1"}
        )
        block = created.json()
        assert block["version"] == 1
        # Hold the block's row lock while both edits start, so both read version 1 and
        # then queue at their write; let go, and see how many land.
        holder = await asyncpg.connect(
            postgres_url.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            hold = holder.transaction()
            await hold.start()
            await holder.execute("SELECT 1 FROM blocks WHERE id = $1 FOR UPDATE", block["id"])
            edits = [
                asyncio.create_task(
                    http.patch(
                        f"{server.url}/v1/blocks/{block['id']}",
                        json={"value": f"from {i}", "expected_version": 1},
                    )
                )
                for i, server in enumerate(two_servers)
            ]
            await _until_waiting_for_a_lock(database, 2)
            await hold.rollback()
            responses = await asyncio.gather(*edits)
        finally:
            await holder.close()
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert "read it again" in loser.json()["detail"]
        winner = next(r for r in responses if r.status_code == 200).json()
        final = (await http.get(f"{two_servers[1].url}/v1/blocks/{block['id']}")).json()
        assert (final["value"], final["version"]) == (winner["value"], 2)
