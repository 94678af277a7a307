"""A turn that writes a summary: with `include_compaction_messages` it shows Letta's event and
summary messages (never stored in the history), and the summariser's tokens are counted in
the run's usage and in the metrics of the step that wrote it (letta-client 1.12.1)."""

from typing import Any

from tests.server.helpers import unique

FILLER = "Note {}: the weather report says it may rain later today, then clear up by evening."
MAX_TURNS = 120


def test_a_summary_shows_as_compaction_messages_and_counts_in_the_runs_usage(client: Any) -> None:
    agent = client.agents.create(
        name=unique("compaction"),
        model="test/echo",  # one token in, one out, per step
        context_window_limit=2000,
        compaction_settings={"model": "test/summarizer"},
    )
    quiet = None
    for n in range(MAX_TURNS):
        response = client.agents.messages.create(
            agent.id,
            messages=[{"role": "user", "content": FILLER.format(n)}],
            include_compaction_messages=True,
        )
        types = [m.message_type for m in response.messages]
        if "summary_message" in types:
            break
        quiet = response
    else:
        raise AssertionError(f"no summary was written in {MAX_TURNS} turns")
    assert quiet is not None
    assert quiet.usage.prompt_tokens == quiet.usage.step_count  # no summariser: echo's only

    assert types == ["event_message", "summary_message", "assistant_message"]
    event, summary = response.messages[0], response.messages[1]
    assert event.event_type == "compaction"
    assert event.event_data["messages_count_before"] > event.event_data["messages_count_after"]
    stats = summary.compaction_stats
    assert stats.context_window == 2000
    assert stats.messages_count_before > stats.messages_count_after
    assert "- Note 0: the weather report says it may rain later today" in summary.summary

    usage = response.usage
    assert usage.prompt_tokens > usage.step_count  # the summariser's tokens are in
    run_id = response.messages[-1].run_id
    assert client.runs.retrieve(run_id).usage["prompt_tokens"] == usage.prompt_tokens
    steps = list(client.runs.steps.list(run_id))
    assert sum(s.prompt_tokens for s in steps) == usage.prompt_tokens
    assert max(s.prompt_tokens for s in steps) > 1  # the step that wrote the summary

    stored = {m.message_type for m in client.agents.messages.list(agent.id, limit=1000)}
    assert not stored & {"event_message", "summary_message"}
