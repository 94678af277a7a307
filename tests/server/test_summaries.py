"""Summaries when the context fills: a fact told in the first message still reaches the model
500 messages later, through the summary heading its context or a conversation search; the
summary is stored, survives a restart, and includes the one before it."""

from typing import Any

import httpx

from tests.server.helpers import unique

RECALL = "test/function:tests.support.models:recall"
FORGETFUL = "test/function:tests.support.models:forgetful"
BROKEN = "test/function:tests.support.models:broken_summarizer"
FACT = "My locker code is 4721. Please keep it in mind."
MESSAGES = 500


def filler(i: int) -> str:
    return f"Note {i}: the weather report says it may rain later today."


def talk(client: Any, agent_id: str, texts: list[str]) -> None:
    for text in texts:
        client.agents.messages.create(agent_id, messages=[{"role": "user", "content": text}])


def ask(client: Any, agent_id: str, text: str) -> Any:
    return client.agents.messages.create(agent_id, messages=[{"role": "user", "content": text}])


def replies(response: Any) -> list[str]:
    return [m.content for m in response.messages if m.message_type == "assistant_message"]


def searched(response: Any) -> bool:
    return any(
        m.message_type == "tool_call_message" and m.tool_call.name == "conversation_search"
        for m in response.messages
    )


def recalling_agent(client: Any, summarizer: str) -> str:
    agent = client.agents.create(
        name=unique("recall"),
        model=RECALL,
        context_window_limit=2000,
        compaction_settings={"model": summarizer},
    )
    return str(agent.id)


def test_a_first_message_fact_reaches_the_model_500_messages_later_through_the_summary(
    client: Any, http: httpx.Client
) -> None:
    agent_id = recalling_agent(client, "test/summarizer")
    talk(client, agent_id, [FACT, *(filler(i) for i in range(1, MESSAGES))])
    answer = ask(client, agent_id, "RECALL locker")
    assert any("4721" in text for text in replies(answer)), replies(answer)
    assert not searched(answer)  # it was in view: the summary heads the context
    # Every message is still stored, the first one too.
    stored = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 5000}).json()
    assert len(stored) >= 2 * MESSAGES
    assert stored[0]["message_type"] == "system_message"  # the prompt heads a listed history
    assert stored[1]["content"] == FACT


def test_a_fact_the_summary_lost_is_found_by_a_conversation_search(client: Any) -> None:
    agent_id = recalling_agent(client, FORGETFUL)
    talk(client, agent_id, [FACT, *(filler(i) for i in range(1, MESSAGES))])
    answer = ask(client, agent_id, "RECALL locker")
    assert searched(answer)
    assert any("4721" in text for text in replies(answer)), replies(answer)


def test_a_failing_summariser_never_fails_the_turn_and_loses_nothing(
    client: Any, http: httpx.Client
) -> None:
    agent_id = recalling_agent(client, BROKEN)
    texts = [FACT, *(filler(i) for i in range(1, 60))]
    for text in texts:
        answer = ask(client, agent_id, text)
        assert answer.stop_reason.stop_reason == "end_turn"
    context = http.get(f"/v1/agents/{agent_id}/context").json()
    assert context["summary_memory"] is None
    assert context["num_recall_memory"] == 2 * len(texts)
    answer = ask(client, agent_id, "RECALL locker")  # out of view, but searchable
    assert any("4721" in text for text in replies(answer)), replies(answer)
