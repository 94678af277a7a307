"""Archives shared by agents (1.x SDK), on SQLite and PostgreSQL: what one agent stores,
the others find at once, through the API and through the archival tools."""

import json
from typing import Any

import httpx
import pytest
from letta_client import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.helpers import make_agent, of_type, script, send, unique

RECIPE = "Grandma's soup needs leeks, barley and a long slow simmer."
BIRTHDAY = "Priya's birthday falls on the ninth of March."
CAR = "The hatchback failed its inspection because of worn brake pads."


def test_two_agents_share_an_archive(client: Any) -> None:
    archive = client.archives.create(name=unique("family"), description="shared facts")
    assert archive.embedding_config.handle == "local/all-MiniLM-L6-v2"
    assert archive.vector_db_provider == "native"
    first, second = (
        client.agents.create(name=unique("member"), model="test/echo") for _ in range(2)
    )
    for agent in (first, second):
        client.agents.archives.attach(archive.id, agent_id=agent.id)
    assert [a.id for a in client.archives.list(agent_id=first.id)] == [archive.id]
    assert [a.id for a in client.archives.list(name=archive.name)] == [archive.id]

    # The first agent's insert lands in the shared archive; the second finds it at once.
    client.agents.passages.create(first.id, text=BIRTHDAY, tags=["dates"])
    found = client.agents.passages.search(second.id, query="when was she born?")
    assert [r.content for r in found.results] == [BIRTHDAY]

    one = client.archives.passages.create(archive.id, text=RECIPE, metadata={"from": "api"})
    assert (one.archive_id, one.metadata, len(one.embedding)) == (archive.id, {"from": "api"}, 384)
    batch = client.archives.passages.create_many(
        archive.id, passages=[{"text": CAR, "tags": ["car"]}, {"text": "filler"}]
    )
    assert [p.text for p in batch] == [CAR, "filler"]
    items = client.passages.search(query="vehicle repairs", archive_id=archive.id, limit=2)
    assert items[0].passage.text == CAR
    assert items[0].score > items[1].score
    by_agent = client.passages.search(query="cooking", agent_id=second.id, limit=1)
    assert [i.passage.text for i in by_agent] == [RECIPE]
    tagged = client.passages.search(query="anything", tags=["car", "dates"], limit=10)
    assert {i.passage.text for i in tagged} >= {CAR, BIRTHDAY}

    client.archives.passages.delete(batch[1].id, archive_id=archive.id)
    listed = client.agents.passages.list(second.id)
    assert [p.text for p in listed] == [BIRTHDAY, RECIPE, CAR]

    renamed = client.archives.update(archive.id, name=archive.name + "-2", description=None)
    assert (renamed.name, renamed.description) == (archive.name + "-2", None)
    assert client.archives.retrieve(archive.id).name == archive.name + "-2"

    client.agents.archives.detach(archive.id, agent_id=second.id)
    assert client.agents.passages.search(second.id, query="birthday").results == []
    client.archives.delete(archive.id)
    with pytest.raises(NotFoundError):
        client.archives.retrieve(archive.id)
    assert client.agents.passages.list(first.id) == []


def test_the_archival_tools_share_through_an_archive(http: httpx.Client) -> None:
    archive = http.post("/v1/archives", json={"name": unique("team")}).json()
    writer, reader = make_agent(http), make_agent(http)
    for agent in (writer, reader):
        attached = http.patch(f"/v1/agents/{agent['id']}/archives/attach/{archive['id']}")
        assert attached.status_code == 200, attached.text
    insert = {"tool": "archival_memory_insert", "args": {"content": CAR}}
    send(http, writer["id"], script(insert, {"tool": "send_message", "args": {"message": "ok"}}))
    search = {"tool": "archival_memory_search", "args": {"query": "automobile upkeep"}}
    result = send(
        http, reader["id"], script(search, {"tool": "send_message", "args": {"message": "ok"}})
    )
    (returned,) = of_type(result, "tool_return_message")
    assert json.loads(returned["tool_return"])[0]["content"] == CAR


def test_bad_archive_requests_get_a_clear_4xx(client: Any) -> None:
    archive = client.archives.create(name=unique("strict"))
    agent = client.agents.create(name=unique("a"), model="test/echo")
    other_model = client.archives.create(
        name=unique("openai"), embedding="openai/text-embedding-3-small"
    )
    assert other_model.embedding_config.embedding_dim == 1536
    with pytest.raises(ConflictError, match="embed"):
        client.agents.archives.attach(other_model.id, agent_id=agent.id)
    assert list(client.archives.list(agent_id=agent.id)) == []
    with pytest.raises(NotFoundError):
        client.agents.archives.attach("archive-missing", agent_id=agent.id)
    with pytest.raises(NotFoundError):
        client.agents.archives.attach(archive.id, agent_id="agent-missing")
    with pytest.raises(NotFoundError):
        client.archives.passages.create("archive-missing", text="x")
    with pytest.raises(UnprocessableEntityError):
        client.archives.passages.create_many(archive.id, passages=[])
    with pytest.raises(UnprocessableEntityError):
        client.archives.passages.create_many(archive.id, passages=[{"text": "ok"}, {"text": ""}])
    with pytest.raises(UnprocessableEntityError):
        client.archives.create(name=unique("x"), embedding="anthropic/claude-embed")
    with pytest.raises(UnprocessableEntityError):
        client.passages.search(query="q" * 10_001)
    kept = client.archives.passages.create(archive.id, text="kept")
    with pytest.raises(NotFoundError):
        client.archives.passages.delete(kept.id, archive_id=other_model.id)
    assert [i.passage.id for i in client.passages.search(archive_id=archive.id, query="")] == [
        kept.id
    ]


def test_changing_the_embedding_re_embeds_or_refuses(client: Any) -> None:
    keyword = {
        "embedding_endpoint_type": "openai",
        "embedding_model": "keyword",
        "embedding_dim": 0,
    }
    agent = client.agents.create(name=unique("old"), model="test/echo", embedding_config=keyword)
    assert agent.embedding_config.handle == "local/keyword"
    (stored,) = client.agents.passages.create(agent.id, text=RECIPE)
    assert stored.embedding is None
    # Keyword-only: a paraphrase finds nothing.
    assert client.agents.passages.search(agent.id, query="what to cook").results == []

    changed = client.agents.update(agent.id, embedding="local/all-MiniLM-L6-v2")
    assert changed.embedding_config.embedding_dim == 384
    (passage,) = client.agents.passages.list(agent.id)
    assert len(passage.embedding) == 384
    found = client.agents.passages.search(agent.id, query="what to cook")
    assert [r.content for r in found.results] == [RECIPE]

    # Shared with another agent and holding passages: refused, nothing changed.
    friend = client.agents.create(name=unique("friend"), model="test/echo")
    (archive,) = client.archives.list(agent_id=agent.id)
    client.agents.archives.attach(archive.id, agent_id=friend.id)
    with pytest.raises(ConflictError, match="shared"):
        client.agents.update(friend.id, embedding_config=keyword)
    assert client.agents.retrieve(friend.id).embedding_config is None
    assert len(client.agents.passages.list(friend.id)[0].embedding) == 384
