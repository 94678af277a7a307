"""Migration 0004 keeps every passage stored before it: each agent's passages move into an
archive of its own, attached to it, and its archival memory still lists and finds them."""

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from troupe.store import Database
from troupe.store import archives as archive_store
from troupe.store import passages as passage_store
from troupe.store.db import alembic_config
from troupe.store.passages import PassageFilter


def _old_store(conn: Any) -> None:
    """A store at revision 0003 (before archives) holding three agents, two with passages."""
    command.upgrade(alembic_config(conn), "0003")
    now = datetime.now(UTC)
    for agent in ("agent-old-1", "agent-old-2", "agent-none"):
        conn.execute(
            text(
                "INSERT INTO agents (id, name, system, agent_type, model, llm_config, "
                "embedding_config, tool_rules, created_at, updated_at) VALUES "
                "(:id, :id, '', 'letta_v1_agent', 'test/echo', '{}', :emb, '[]', :now, :now)"
            ),
            {"id": agent, "emb": '{"handle": "local/keyword"}', "now": now},
        )
    for i, agent in enumerate(["agent-old-1", "agent-old-1", "agent-old-2"]):
        conn.execute(
            text(
                "INSERT INTO passages (id, agent_id, text, created_at) "
                "VALUES (:id, :agent, :text, :now)"
            ),
            {"id": f"passage-{i}", "agent": agent, "text": f"old fact {i}", "now": now},
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_passages_stored_before_move_into_their_agents_archive(
    backend: str, database_factory: Any
) -> None:
    db = Database(database_factory(backend))
    try:
        async with db.writer.begin() as conn:
            await conn.run_sync(_old_store)
        await db.migrate()
        async with db.read() as session:
            for agent, texts in (
                ("agent-old-1", ["old fact 0", "old fact 1"]),
                ("agent-old-2", ["old fact 2"]),
                ("agent-none", []),
            ):
                archives = await archive_store.archives_of_agent(session, agent)
                assert len(archives) == (1 if texts else 0)
                if not texts:
                    continue
                assert archives[0].name == f"{agent}'s archival memory"
                assert archives[0].embedding_config == {"handle": "local/keyword"}
                where = PassageFilter([archives[0].id])
                found = await passage_store.keyword_matches(session, where, ["fact"], 10)
                assert sorted(p.text for p, _ in found) == texts
                assert all(p.tags == [] and p.embedding is None for p, _ in found)
    finally:
        await db.dispose()
