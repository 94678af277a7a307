"""The summary acceptance once with the embedded model (llama.cpp, SmolLM2-135M) writing the
summaries: a fact told in the first message still reaches the agent's model 500 messages
later, through the summary or, where a 135M model's summary lost it, a conversation search.
About ten minutes on a busy 2-core machine, so one run, on SQLite."""

import pytest

from tests.server.test_summaries import FACT, MESSAGES, RECALL, ask, filler, replies, talk
from tests.support.sdks import legacy_sdk
from tests.support.servers import ServerProcess
from troupe.llm.handles import DEFAULT_MODEL

pytestmark = pytest.mark.slow


def test_the_embedded_model_summarises_and_the_first_fact_still_reaches_the_model(
    sqlite_server: ServerProcess,
) -> None:
    from letta_client import Letta

    client = Letta(base_url=sqlite_server.url, timeout=600)
    agent = client.agents.create(
        name="embedded-summaries",
        model=RECALL,
        context_window_limit=2000,
        # Only the tools it uses (their definitions leave more of the window to history),
        # short summaries, written seldom: a 135M model on a shared CPU writes slowly.
        include_base_tools=False,
        tools=["send_message", "conversation_search"],
        compaction_settings={
            "model": DEFAULT_MODEL,
            "clip_chars": 600,
            "sliding_window_percentage": 0.1,
        },
    )
    talk(client, agent.id, [FACT, *(filler(i) for i in range(1, MESSAGES))])
    view = legacy_sdk().Letta(base_url=sqlite_server.url).agents.context.retrieve(agent_id=agent.id)
    assert view.summary_memory  # written by the embedded model
    assert view.num_recall_memory >= 2 * MESSAGES
    answer = ask(client, agent.id, "RECALL locker")
    assert any("4721" in text for text in replies(answer)), (view.summary_memory, replies(answer))
