"""An agent's archival memory through both SDK lines and the archival tools, on SQLite and
PostgreSQL, with the embedded embedder making real vectors."""

import json
from typing import Any

import httpx
import pytest

from tests.server.helpers import make_agent, of_type, script, send, unique

PETS = "My sister keeps three rescued greyhounds at her farmhouse."
WORK = "Sam is employed as a pastry chef at a bakery downtown."
TRAVEL = "Next spring we fly to Lisbon for a week of sightseeing."


def _agent(client: Any) -> Any:
    return client.agents.create(name=unique("archivist"), model="test/echo")


def test_current_sdk_inserts_lists_searches_and_deletes(client: Any) -> None:
    agent = _agent(client)
    assert agent.embedding_config is None  # none named (as Letta shows it): the embedded one
    stored = {}
    for text, tags in ((PETS, ["family"]), (WORK, ["people", "work"]), (TRAVEL, ["plans"])):
        (passage,) = client.agents.passages.create(agent.id, text=text, tags=tags)
        assert passage.text == text
        assert passage.tags == tags
        assert len(passage.embedding) == 384
        assert passage.embedding_config.handle == "local/all-MiniLM-L6-v2"
        stored[text] = passage

    listed = client.agents.passages.list(agent.id)
    assert [p.text for p in listed] == [PETS, WORK, TRAVEL]  # oldest first
    newest_first = client.agents.passages.list(agent.id, ascending=False, limit=2)
    assert [p.text for p in newest_first] == [TRAVEL, WORK]
    assert [p.text for p in client.agents.passages.list(agent.id, search="bakery")] == [WORK]

    # By meaning: no word of the query is in the passage.
    found = client.agents.passages.search(agent.id, query="which dogs does a relative own?")
    assert found.results[0].content == PETS
    assert found.results[0].tags == ["family"]
    assert found.count == len(found.results) == 3
    only = client.agents.passages.search(agent.id, query="job", tags=["work", "plans"])
    assert {r.content for r in only.results} == {WORK, TRAVEL}
    both = client.agents.passages.search(
        agent.id, query="job", tags=["people", "work"], tag_match_mode="all"
    )
    assert [r.content for r in both.results] == [WORK]
    top = client.agents.passages.search(agent.id, query="holiday abroad", top_k=1)
    assert [r.content for r in top.results] == [TRAVEL]
    later = stored[TRAVEL].created_at
    assert {
        r.content
        for r in client.agents.passages.search(
            agent.id, query="anything", start_datetime=later
        ).results
    } == {TRAVEL}

    client.agents.passages.delete(stored[WORK].id, agent_id=agent.id)
    assert [p.text for p in client.agents.passages.list(agent.id)] == [PETS, TRAVEL]


def test_legacy_sdk_inserts_modifies_and_deletes(legacy_client: Any) -> None:
    agent = legacy_client.agents.create(name=unique("archivist"), model="test/echo")
    (passage,) = legacy_client.agents.passages.create(agent_id=agent.id, text=PETS)
    assert passage.agent_id == agent.id
    assert len(passage.embedding) == 384
    (changed,) = legacy_client.agents.modify_passage(
        agent_id=agent.id, memory_id=passage.id, id=passage.id, text=WORK
    )
    assert changed.text == WORK
    assert changed.embedding != passage.embedding  # embedded again
    listed = legacy_client.agents.passages.list(agent_id=agent.id)
    assert [p.text for p in listed] == [WORK]
    legacy_client.agents.passages.delete(agent_id=agent.id, memory_id=passage.id)
    assert legacy_client.agents.passages.list(agent_id=agent.id) == []


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(http: httpx.Client) -> None:
    agent = make_agent(http, model="test/echo")
    base = f"/v1/agents/{agent['id']}/archival-memory"
    (kept,) = http.post(base, json={"text": PETS}).json()

    checks = [
        (http.post(base, json={"text": ""}), 422),
        (http.post(base, json={"text": "x" * 100_001}), 422),
        (http.post(base, json={"text": "ok", "tags": ["x" * 256]}), 422),
        (http.get(f"{base}/search", params={"query": "q" * 10_001}), 422),
        (http.get(f"{base}/search", params={"query": "q", "top_k": 0}), 422),
        (http.get(f"{base}/search", params={"query": "q", "tag_match_mode": "some"}), 422),
        (http.post("/v1/agents/agent-missing/archival-memory", json={"text": "x"}), 404),
        (http.delete(f"{base}/passage-missing"), 404),
        (http.patch(f"{base}/{kept['id']}", json={"id": kept["id"], "embedding": [0.1] * 3}), 422),
    ]
    for response, status in checks:
        assert response.status_code == status, response.text
        assert "detail" in response.json()

    other = make_agent(http, model="test/echo")
    elsewhere = http.delete(f"/v1/agents/{other['id']}/archival-memory/{kept['id']}")
    assert elsewhere.status_code == 404
    (left,) = http.get(base).json()
    assert left["text"] == PETS
    assert left["embedding"] == kept["embedding"]


def test_the_archival_tools_use_the_agents_embedding(http: httpx.Client) -> None:
    agent = make_agent(http)
    result = send(
        http,
        agent["id"],
        script(
            {"tool": "archival_memory_insert", "args": {"content": WORK, "tags": ["work"]}},
            {"tool": "archival_memory_insert", "args": {"content": TRAVEL}},
            {"tool": "archival_memory_search", "args": {"query": "what is his occupation"}},
            {"tool": "send_message", "args": {"message": "done"}},
        ),
    )
    listed = http.get(f"/v1/agents/{agent['id']}/archival-memory").json()
    assert [(p["text"], p["tags"], len(p["embedding"])) for p in listed] == [
        (WORK, ["work"], 384),
        (TRAVEL, [], 384),
    ]
    returns = of_type(result, "tool_return_message")
    assert [r["status"] for r in returns] == ["success"] * 3
    assert json.loads(returns[2]["tool_return"])[0]["content"] == WORK


@pytest.mark.parametrize("field", ["embedding", "embedding_config"])
def test_an_unservable_embedding_is_refused_at_creation(http: httpx.Client, field: str) -> None:
    value: Any = "anthropic/claude-embed"
    if field == "embedding_config":
        value = {"embedding_endpoint_type": "mistral", "embedding_model": "m", "embedding_dim": 8}
    response = http.post("/v1/agents/", json={"name": unique("x"), field: value})
    assert response.status_code == 422, response.text
    assert "cannot be served" in response.json()["detail"]
