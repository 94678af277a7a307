"""Two servers on one database (SQLite and PostgreSQL), both SDK lines: what one stores,
edits, deletes or embeds again, the other's next search finds, answering as its SQL search
would, while each catches up what it holds in memory from the passage log (migration 0019)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from letta_client import Letta

from tests.server.helpers import unique
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

EVER = datetime(1970, 1, 1, tzinfo=UTC)  # a date filter: the same search, run in SQL
DOGS = "My sister keeps three rescued greyhounds at her farmhouse."
FACTS = [
    DOGS,
    "Sam is employed as a pastry chef at a bakery downtown.",
    "Next spring we fly to Lisbon for a week of sightseeing.",
    "The boiler in the basement was serviced in October.",
]
ORCHARD = "Grandpa planted forty apple trees in the orchard behind the barn."
PIANO = "Lena practises the piano every evening before dinner."
KEYWORD = {"embedding_endpoint_type": "openai", "embedding_model": "keyword", "embedding_dim": 0}


@pytest.fixture(scope="module")
def other_url(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server on the session server's database: another process."""
    proc = ServerProcess(server.database_url, tmp_path_factory.mktemp("other")).start()
    try:
        yield proc.url
    finally:
        proc.stop()


def _found(client: Any, agent_id: str, query: str) -> list[str]:
    """The search's passages, checked against the same search run in SQL."""
    fast = client.agents.passages.search(agent_id, query=query, top_k=3).results
    slow = client.agents.passages.search(
        agent_id, query=query, top_k=3, start_datetime=EVER
    ).results
    assert [r.id for r in fast] == [r.id for r in slow], query
    return [r.content for r in fast]


def test_each_server_finds_what_the_other_wrote(client: Any, other_url: str) -> None:
    other = Letta(base_url=other_url)
    agent = client.agents.create(
        name=unique("shared-db"), model="test/echo", embedding_config=KEYWORD
    )
    stored = [client.agents.passages.create(agent.id, text=t)[0] for t in FACTS]
    for one in (client, other):  # both hold the archive's words now; keyword only
        assert _found(one, agent.id, "greyhounds")[0] == DOGS
        assert _found(one, agent.id, "which dogs does a relative own?") == []

    # The other server embeds the archive again; this one's next search has the vectors.
    other.agents.update(agent.id, embedding="local/all-MiniLM-L6-v2")
    for one in (client, other):
        assert _found(one, agent.id, "which dogs does a relative own?")[0] == DOGS

    (orchard,) = client.agents.passages.create(agent.id, text=ORCHARD)
    assert _found(other, agent.id, "fruit trees on the farm")[0] == ORCHARD
    client.agents.passages.delete(orchard.id, agent_id=agent.id)
    assert ORCHARD not in _found(other, agent.id, "fruit trees on the farm")

    other.agents.passages.create(agent.id, text=PIANO)
    assert _found(client, agent.id, "music lessons at home")[0] == PIANO

    # A passage edited through the other server (0.1.x SDK): new text, embedded again.
    boiler = stored[3].id
    legacy = legacy_sdk().Letta(base_url=other_url)
    legacy.agents.modify_passage(agent_id=agent.id, memory_id=boiler, id=boiler, text=ORCHARD)
    for one in (client, other):
        assert _found(one, agent.id, "fruit trees on the farm")[0] == ORCHARD
        assert "boiler" not in " ".join(_found(one, agent.id, "boiler basement heating"))
