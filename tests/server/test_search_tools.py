"""The built-in search tools called as Letta's final versions are (and as MemGPT's were), by a
scripted model through the official SDKs, on SQLite and PostgreSQL: archival_memory_search
with tags, tag_match_mode, top_k and time bounds, conversation_search with roles, limit and
dates; the old `page`/`start` still taken; bad values a tool error, not a crash."""

import json
from datetime import UTC, datetime
from typing import Any

from tests.server.helpers import script, unique

BIRTHDAY = "Ana's birthday is on the ninth of March; she likes lemon cake."
DENTIST = "The dentist appointment moved to Thursday afternoon."
PARTY = "We plan a surprise birthday party for Ana at the lake house."
TRIP = "The family trip to the mountains starts on the first of August."


def _calls(client: Any, agent_id: str, *calls: dict[str, Any]) -> list[Any]:
    """The tool returns of one turn in which the model makes `calls`, then answers."""
    steps = [*({"tool": c["tool"], "args": c["args"]} for c in calls), {"text": "done"}]
    reply = client.agents.messages.create(
        agent_id, messages=[{"role": "user", "content": script(*steps)}]
    )
    returns = [m for m in reply.messages if m.message_type == "tool_return_message"]
    assert len(returns) == len(calls)
    return returns


def _archivist(client: Any) -> Any:
    agent = client.agents.create(name=unique("archivist"), model="test/scripted")
    for text, tags, when in (
        (BIRTHDAY, ["personal", "family"], "2024-01-15T10:00:00Z"),
        (DENTIST, ["personal"], "2024-01-20T18:30:00Z"),
        (PARTY, ["family", "plans"], "2024-01-21T09:00:00Z"),
        (TRIP, ["plans"], "2024-02-01T12:00:00Z"),
    ):
        client.agents.passages.create(agent.id, text=text, tags=tags, created_at=when)
    return agent


def _search(client: Any, agent_id: str, **args: Any) -> list[dict[str, Any]]:
    (found,) = _calls(client, agent_id, {"tool": "archival_memory_search", "args": args})
    assert found.status == "success", found.tool_return
    return list(json.loads(found.tool_return))


def test_archival_search_takes_lettas_arguments(client: Any) -> None:
    agent = _archivist(client)
    # The QA report's call: refused before ("unknown arguments: top_k").
    hits = _search(client, agent.id, query="birthday", tags=["personal"], top_k=3)
    assert hits[0]["content"] == BIRTHDAY
    assert {h["content"] for h in hits} == {BIRTHDAY, DENTIST}  # only passages tagged personal
    assert set(hits[0]) == {"id", "timestamp", "content", "tags"}
    assert hits[0]["id"].startswith("passage-")
    assert hits[0]["tags"] == ["personal", "family"]
    assert hits[0]["timestamp"].startswith("2024-01-15T10:00:00")

    every = _search(client, agent.id, query="birthday", tags=["family", "plans"], top_k=10)
    assert {h["content"] for h in every} == {BIRTHDAY, PARTY, TRIP}  # any (the default)
    both = _search(
        client, agent.id, query="birthday", tags=["family", "plans"], tag_match_mode="all"
    )
    assert [h["content"] for h in both] == [PARTY]
    assert len(_search(client, agent.id, query="birthday", top_k=1)) == 1
    assert len(_search(client, agent.id, query="birthday")) == 4  # 5 by default

    # Time bounds, inclusive; a date alone as the end takes in its whole day.
    january_20 = _search(
        client, agent.id, query="plans", start_datetime="2024-01-20", end_datetime="2024-01-20"
    )
    assert [h["content"] for h in january_20] == [DENTIST]
    later = _search(client, agent.id, query="plans", start_datetime="2024-01-20T19:00")
    assert {h["content"] for h in later} == {PARTY, TRIP}
    offset = _search(client, agent.id, query="x", end_datetime="2024-01-15T11:00:00+01:00")
    assert [h["content"] for h in offset] == [BIRTHDAY]  # 10:00 UTC is 11:00 at +01:00
    assert _search(client, agent.id, query="birthday", start_datetime="2030-01-01") == []


def test_archival_search_still_takes_memgpts_paging(client: Any) -> None:
    agent = _archivist(client)
    first = _search(client, agent.id, query="birthday", top_k=2)
    page_two = _search(client, agent.id, query="birthday", top_k=2, page=1)
    assert len(first) == len(page_two) == 2
    assert not {h["id"] for h in first} & {h["id"] for h in page_two}
    started = _search(client, agent.id, query="birthday", start=1, page=0)
    assert [h["id"] for h in started][:1] == [first[1]["id"]]
    # The old form, as a MemGPT-era agent sends it (page as text included).
    assert len(_search(client, agent.id, query="birthday", page="0", start=0, tags=[])) == 4
    (tool,) = client.tools.list(name="archival_memory_search")
    assert "page" not in tool.json_schema["parameters"]["properties"]  # taken, not offered


def test_bad_search_arguments_are_tool_errors_naming_the_problem(client: Any) -> None:
    agent = _archivist(client)
    calls = [
        ("archival_memory_search", {"query": "x", "start_datetime": "last tuesday"}),
        ("archival_memory_search", {"query": "x", "top_k": 0}),
        ("archival_memory_search", {"query": "x", "tag_match_mode": "some"}),
        ("archival_memory_search", {"query": "x", "count": 3}),
        ("conversation_search", {"roles": ["robot"]}),
        ("conversation_search", {"end_date": "2024-13-45"}),
        ("conversation_search", {"limit": "many"}),
    ]
    returns = _calls(client, agent.id, *({"tool": t, "args": a} for t, a in calls))
    assert [r.status for r in returns] == ["error"] * len(calls)
    texts = [r.tool_return for r in returns]
    assert "Invalid start_datetime format: last tuesday" in texts[0]
    assert "top_k" in texts[1]
    assert "tag_match_mode" in texts[2]
    assert "unknown arguments: count" in texts[3]
    assert "roles" in texts[4]
    assert "Invalid end_date format: 2024-13-45" in texts[5]
    assert "limit" in texts[6]


def test_conversation_search_filters_by_role_time_and_count(client: Any) -> None:
    agent = client.agents.create(name=unique("talker"), model="test/scripted")
    # Not ASCII, so the scripts that search for it (stored as user messages, their JSON
    # escaping it) do not hold it themselves: only the messages sent here and their replies.
    word = unique("héron")
    for text in (f"first {word}", f"second {word}"):
        client.agents.messages.create(agent.id, messages=[{"role": "user", "content": text}])

    def search(**args: Any) -> dict[str, Any]:
        (found,) = _calls(client, agent.id, {"tool": "conversation_search", "args": args})
        assert found.status == "success", found.tool_return
        return dict(json.loads(found.tool_return))

    users = search(query=word, roles=["user"])
    assert users["message"] == "Showing 2 results:"
    assert [r["content"] for r in users["results"]] == [f"second {word}", f"first {word}"]
    assert {r["role"] for r in users["results"]} == {"user"}
    assert set(users["results"][0]) == {"timestamp", "time_ago", "role", "content"}
    assistants = search(query=word, roles=["assistant"])
    assert {r["role"] for r in assistants["results"]} == {"assistant"}  # the "ack: ..." replies
    assert [r["content"] for r in search(query=word, roles=["user"], limit=1)["results"]] == [
        f"second {word}"
    ]
    paged = search(query=word, roles=["user"], limit=1, page=1)  # MemGPT's paging, still taken
    assert [r["content"] for r in paged["results"]] == [f"first {word}"]
    assert search(query=word, roles=["tool"]) == {"message": "No results found.", "results": []}

    today = datetime.now(UTC).date().isoformat()
    assert len(search(query=word, roles=["user"], end_date=today)["results"]) == 2  # whole day
    assert search(query=word, start_date="2999-01-01")["results"] == []
    assert search(query=word, end_date="2000-01-01")["results"] == []
    recent = search(roles=["user"], limit=2)  # no query: the newest, by the other filters
    assert len(recent["results"]) == 2
