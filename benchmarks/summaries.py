"""Benchmark 10: summaries when the context fills. One agent with a 2,000-token context
window whose summaries `test/summarizer` writes (0 ms), fed messages one at a time: the
round trip of the steps that wrote no summary (set it against `step`: the overhead with no
summary due) and of the steps that wrote one (what a summary step costs troupe, the
summariser's own time being 0). A step wrote a summary when the messages in the agent's
context dropped (GET /v1/agents/{id}/context, outside the timing)."""

from typing import Any

from benchmarks.harness import Backend, agent_spec, checked, send, servers, summary, timed

WINDOW = 2000
SUMMARIZER = "test/summarizer"


async def summary_cost(bk: Backend, messages: int) -> dict[str, Any]:
    spec = agent_spec(context_window_limit=WINDOW, compaction_settings={"model": SUMMARIZER})
    async with servers(bk, label="summaries") as s:
        agent = await checked(s.main.post("/v1/agents", json=spec))
        context = f"/v1/agents/{agent['id']}/context"
        plain: list[float] = []
        summarising: list[float] = []
        in_context = 0
        for i in range(messages):
            ms, _ = await timed(send(s.main, agent["id"], f"Note {i}: it may rain later today."))
            now = (await checked(s.main.get(context)))["num_messages"]
            (summarising if now < in_context else plain).append(ms)
            in_context = now
    return {
        "settings": {
            "messages": messages,
            "context_window": WINDOW,
            "model": spec["model"],
            "summarizer": f"{SUMMARIZER} (in process, 0 ms)",
        },
        "no_summary_due_round_trip_ms": summary(plain),
        "summary_step_round_trip_ms": summary(summarising),
        "summaries": len(summarising),
    }
