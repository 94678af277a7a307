"""Agents, blocks and tags through both official SDK lines, on SQLite and PostgreSQL."""

import uuid
from typing import Any

import pytest

from tests.support.sdks import legacy_sdk


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_current_sdk_creates_supervisor_and_workers_sharing_one_block(client: Any) -> None:
    team = unique("team")
    shared = client.blocks.create(label="team_tasks", value='{"active_tasks": []}')
    supervisor = client.agents.create(
        name=unique("supervisor"),
        memory_blocks=[{"label": "persona", "value": "I coordinate."}],
        block_ids=[shared.id],
        tags=[team, "supervisor"],
        tools=["send_message_to_agent_async", "send_message_to_agents_matching_all_tags"],
    )
    workers = [
        client.agents.create(
            name=unique(f"worker{i}"),
            memory_blocks=[{"label": "persona", "value": f"I am worker {i}."}],
            block_ids=[shared.id],
            tags=[team, "worker"],
        )
        for i in range(3)
    ]

    assert {b.label for b in supervisor.memory.blocks} == {"persona", "team_tasks"}
    assert {t.name for t in supervisor.tools} >= {
        "send_message",
        "send_message_to_agent_async",
        "send_message_to_agents_matching_all_tags",
    }
    listed = client.agents.list(tags=[team, "worker"], match_all_tags=True)
    assert sorted(a.id for a in listed) == sorted(w.id for w in workers)

    client.blocks.update(shared.id, value='{"active_tasks": ["t1"]}')
    for agent in [supervisor, *workers]:
        block = client.agents.blocks.retrieve("team_tasks", agent_id=agent.id)
        assert block.id == shared.id
        assert block.value == '{"active_tasks": ["t1"]}'


def test_legacy_sdk_runs_the_cookbook_calls(legacy_client: Any) -> None:
    team = unique("team")
    shared = legacy_client.blocks.create(label="team_tasks", value="{}")
    worker = legacy_client.agents.create(
        name=unique("worker"),
        description="a worker",
        system="You are a worker.",
        memory_blocks=[{"label": "persona", "value": "I work."}],
        block_ids=[shared.id],
        tools=["send_message_to_agent_async"],
        model="openai/gpt-4.1-mini",
        embedding_config={
            "embedding_endpoint_type": "openai",
            "embedding_model": "text-embedding-3-small",
            "embedding_dim": 1536,
        },
        tags=[team],
    )
    assert worker.llm_config.model == "gpt-4.1-mini"
    assert "send_message_to_agent_async" in [t.name for t in worker.tools]
    fetched = legacy_client.agents.retrieve(agent_id=worker.id)
    assert fetched.tags == [team]
    assert [b.label for b in fetched.memory.blocks] == ["persona", "team_tasks"]
    assert shared.id in [b.id for b in legacy_client.blocks.list(label="team_tasks")]
    assert team in legacy_client.tag.list_tags()


def test_sdk_auto_paging_visits_every_agent_once(client: Any) -> None:
    tag = unique("paged")
    made = {client.agents.create(name=unique("p"), tags=[tag]).id for _ in range(7)}
    seen = [a.id for a in client.agents.list(tags=[tag], limit=3)]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made


def test_legacy_sdk_create_takes_none_for_the_lists_letta_makes_optional(
    legacy_client: Any,
) -> None:
    """Scripts often pass their own optional arguments straight on (`tool_rules=rules`,
    rules being None); the 0.1.x SDK then sends null, which Letta's CreateAgent reads as
    "none given" for these lists. The agent is made as if they were left out."""
    agent = legacy_client.agents.create(
        name=unique("nulls"),
        model="test/echo",
        memory_blocks=None,
        tools=None,
        tool_ids=None,
        source_ids=None,
        block_ids=None,
        tool_rules=None,
    )
    fetched = legacy_client.agents.retrieve(agent_id=agent.id)
    assert fetched.tool_rules == []
    assert [b.label for b in fetched.memory.blocks] == []
    assert "send_message" in [t.name for t in fetched.tools]  # include_base_tools' default
    assert legacy_client.agents.sources.list(agent_id=agent.id) == []


def test_legacy_sdk_finds_a_relabelled_block_under_its_new_label(legacy_client: Any) -> None:
    """A label changed through either route (the agent's block by label, or the block by
    id) is the label the agent's block answers to from then on, and the old one is gone."""
    agent = legacy_client.agents.create(
        name=unique("relabel"),
        model="test/echo",
        memory_blocks=[{"label": "human", "value": "Ann"}, {"label": "notes", "value": "n"}],
    )
    renamed = legacy_client.agents.blocks.modify(
        agent_id=agent.id, block_label="human", label="user"
    )
    assert renamed.label == "user"
    assert (
        legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label="user").value == "Ann"
    )

    notes = legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label="notes")
    legacy_client.blocks.modify(block_id=notes.id, label="journal")
    journal = legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label="journal")
    assert journal.id == notes.id

    api_error = legacy_sdk().core.api_error.ApiError
    for old in ("human", "notes"):
        with pytest.raises(api_error) as gone:
            legacy_client.agents.blocks.retrieve(agent_id=agent.id, block_label=old)
        assert gone.value.status_code == 404
    labels = [b.label for b in legacy_client.agents.blocks.list(agent_id=agent.id)]
    assert labels == ["user", "journal"]
