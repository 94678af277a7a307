"""What an agent's context window holds (0.1.x `agents.context`), its core memory and memory
variables, summaries on demand (1.x `messages.compact`) and clearing the history
(`reset-messages`, both SDK lines): through the official SDKs, on SQLite and PostgreSQL."""

from typing import Any

import httpx
import pytest

from tests.server.helpers import unique
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess

RECALL = "test/function:tests.support.models:recall"
FACT = "My locker code is 4721."


def filler(i: int) -> str:
    return f"Note {i}: the weather report says it may rain later today."


def legacy_agent(legacy_client: Any, summarizer: str | None = None, **fields: Any) -> Any:
    """An agent made through the 0.1.x SDK; `summarizer`: its compaction_settings.model (a
    1.x field, which the 0.1.x SDK sends as an extra body parameter)."""
    extra = {"compaction_settings": {"model": summarizer}} if summarizer else {}
    return legacy_client.agents.create(
        name=unique("ctx"),
        model=RECALL,
        memory_blocks=[{"label": "human", "value": "Name: Ada"}],
        request_options={"additional_body_parameters": extra},
        **fields,
    )


def legacy_talk(legacy_client: Any, agent_id: str, texts: list[str]) -> None:
    for text in texts:
        legacy_client.agents.messages.create(
            agent_id=agent_id, messages=[{"role": "user", "content": text}]
        )


def test_the_context_view_shows_each_part_of_what_the_model_is_sent(legacy_client: Any) -> None:
    agent = legacy_agent(legacy_client, system="You are a careful agent.")
    legacy_talk(legacy_client, agent.id, ["hello there", "RECALL weather"])
    view = legacy_client.agents.context.retrieve(agent_id=agent.id)
    assert view.context_window_size_max == agent.llm_config.context_window
    assert view.system_prompt == "You are a careful agent."
    assert "Name: Ada" in view.core_memory
    assert "<human" in view.core_memory
    assert view.num_tokens_core_memory > 0
    assert view.num_tokens_system > 0
    assert sorted(f.function.name for f in view.functions_definitions) == sorted(
        t.name for t in agent.tools
    )
    assert view.num_tokens_functions_definitions > 0
    assert view.summary_memory is None
    assert view.num_tokens_summary_memory == 0
    stored = legacy_client.agents.messages.list(agent_id=agent.id, limit=100)
    assert view.num_recall_memory == len(stored) - 1 > 0  # the head is the prompt, not a row
    assert view.num_archival_memory == 0
    assert view.messages[0].role == "system"
    assert "You are a careful agent." in view.messages[0].content[0].text
    texts = [c.text for m in view.messages[1:] for c in (m.content or [])]
    assert "hello there" in texts
    assert "RECALL weather" in texts
    assert view.num_messages == len(view.messages)
    parts = (
        view.num_tokens_system
        + view.num_tokens_core_memory
        + view.num_tokens_summary_memory
        + view.num_tokens_functions_definitions
        + view.num_tokens_messages
    )
    assert view.context_window_size_current == parts


def test_a_summary_heads_the_context_view_once_the_window_filled(legacy_client: Any) -> None:
    agent = legacy_agent(legacy_client, "test/summarizer", context_window_limit=2000)
    legacy_talk(legacy_client, agent.id, [FACT, *(filler(i) for i in range(1, 80))])
    view = legacy_client.agents.context.retrieve(agent_id=agent.id)
    assert view.summary_memory is not None
    assert "4721" in view.summary_memory
    assert "Note 1:" in view.summary_memory  # the newer summaries include the older ones
    assert view.num_tokens_summary_memory > 0
    assert "4721" in view.messages[1].content[0].text  # right after the system message
    assert view.num_recall_memory >= 160  # every message is still stored
    # The prompt, tools included, stays within the window (a quarter is left for the answer).
    assert view.context_window_size_current <= 2000 * 0.8


def test_core_memory_and_its_variables_through_the_legacy_sdk(legacy_client: Any) -> None:
    agent = legacy_agent(legacy_client, memory_variables={"customer": "Ada", "plan": "pro"})
    memory = legacy_client.agents.core_memory.retrieve(agent_id=agent.id)
    assert [(b.label, b.value) for b in memory.blocks] == [("human", "Name: Ada")]
    variables = legacy_client.agents.memory_variables.list(agent_id=agent.id)
    assert variables.variables == {"customer": "Ada", "plan": "pro"}
    plain = legacy_agent(legacy_client)
    assert legacy_client.agents.memory_variables.list(agent_id=plain.id).variables == {}


def test_reset_messages_clears_the_history_and_its_summary(legacy_client: Any) -> None:
    agent = legacy_agent(legacy_client, "test/summarizer", context_window_limit=2000)
    legacy_talk(legacy_client, agent.id, [FACT, *(filler(i) for i in range(1, 60))])
    assert legacy_client.agents.context.retrieve(agent_id=agent.id).summary_memory
    state = legacy_client.agents.reset_messages(
        agent_id=agent.id, add_default_initial_messages=False
    )
    assert state.id == agent.id
    kept = legacy_client.agents.messages.list(agent_id=agent.id)
    assert [m.message_type for m in kept] == ["system_message"]  # as in Letta
    view = legacy_client.agents.context.retrieve(agent_id=agent.id)
    assert view.summary_memory is None
    assert view.num_recall_memory == 0
    assert len(view.messages) == 1
    # The agent talks on from a clean history: the old fact is gone for good.
    reply = legacy_client.agents.messages.create(
        agent_id=agent.id, messages=[{"role": "user", "content": "RECALL locker"}]
    )
    said = [m.content for m in reply.messages if m.message_type == "assistant_message"]
    assert said
    assert not any("4721" in text for text in said)


def test_summarize_on_demand_through_the_current_sdk(client: Any) -> None:
    agent = client.agents.create(name=unique("sum"), model=RECALL)
    for text in [FACT, *(filler(i) for i in range(1, 12))]:
        client.agents.messages.create(agent.id, messages=[{"role": "user", "content": text}])
    some = client.agents.messages.compact(
        agent.id, compaction_settings={"model": "test/summarizer"}
    )
    assert "4721" in some.summary
    assert 1 < some.num_messages_after < some.num_messages_before
    everything = client.agents.messages.compact(
        agent.id, compaction_settings={"model": "test/summarizer", "mode": "all"}
    )
    assert everything.num_messages_before == some.num_messages_after
    assert everything.num_messages_after == 2  # the system message and the summary
    assert everything.summary.startswith(some.summary)  # recursive
    assert "Note 11:" in everything.summary
    nothing = client.agents.messages.compact(agent.id)  # nothing left to evict
    assert nothing.summary == everything.summary
    assert nothing.num_messages_before == nothing.num_messages_after == 2
    answer = client.agents.messages.create(
        agent.id, messages=[{"role": "user", "content": "RECALL locker"}]
    )
    said = [m.content for m in answer.messages if m.message_type == "assistant_message"]
    assert any("4721" in text for text in said)
    state = client.agents.messages.reset(agent.id, add_default_initial_messages=True)
    assert state.id == agent.id
    assert [m.message_type for m in client.agents.messages.list(agent.id)] == ["system_message"]


def test_a_summary_survives_a_restart_and_is_not_written_again(
    fresh_server: ServerProcess,
) -> None:
    legacy = legacy_sdk().Letta(base_url=fresh_server.url)
    agent = legacy_agent(legacy, "test/summarizer", context_window_limit=2000)
    legacy_talk(legacy, agent.id, [FACT, *(filler(i) for i in range(1, 50))])
    before = legacy.agents.context.retrieve(agent_id=agent.id)
    assert before.summary_memory
    assert "4721" in before.summary_memory
    fresh_server.restart()
    legacy = legacy_sdk().Letta(base_url=fresh_server.url)
    after = legacy.agents.context.retrieve(agent_id=agent.id)
    assert after.summary_memory == before.summary_memory
    legacy_talk(legacy, agent.id, ["one more"])  # fits: no summary is due
    assert legacy.agents.context.retrieve(agent_id=agent.id).summary_memory == (
        before.summary_memory
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "context", None),
        ("GET", "core-memory", None),
        ("GET", "core-memory/variables", None),
        ("POST", "summarize", {}),
        ("PATCH", "reset-messages", {}),
    ],
)
def test_the_memory_routes_answer_404_for_an_unknown_agent(
    http: httpx.Client, method: str, path: str, body: Any
) -> None:
    response = http.request(method, f"/v1/agents/agent-missing/{path}", json=body)
    assert response.status_code == 404, response.text
    assert "agent-missing" in response.json()["detail"]


@pytest.mark.parametrize(
    "settings",
    [
        {"model": "no-provider"},
        {"model": "nowhere/model"},
        {"sliding_window_percentage": 2},
        {"mode": "everything"},
        {"clip_chars": 0},
    ],
)
def test_bad_compaction_settings_get_a_422_and_change_nothing(
    http: httpx.Client, settings: dict[str, Any]
) -> None:
    created = http.post("/v1/agents/", json={"name": unique("bad"), "model": RECALL})
    agent_id = created.json()["id"]
    patched = http.patch(f"/v1/agents/{agent_id}", json={"compaction_settings": settings})
    assert patched.status_code == 422, patched.text
    assert http.get(f"/v1/agents/{agent_id}").json()["compaction_settings"] is None
    summarized = http.post(
        f"/v1/agents/{agent_id}/summarize", json={"compaction_settings": settings}
    )
    assert summarized.status_code == 422, summarized.text
    made = http.post(
        "/v1/agents/",
        json={"name": unique("bad"), "model": RECALL, "compaction_settings": settings},
    )
    assert made.status_code == 422, made.text
