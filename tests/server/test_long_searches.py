"""Over-long searches are refused clearly (a 422 on routes, a tool error the model reads in a
turn), never a 500 from the database; repeated words are merged; normal searches still work."""

import httpx

from tests.server.helpers import make_agent, of_type, script, send, unique
from troupe.schemas.search_limits import MAX_NAME_FILTER_CHARS, MAX_SEARCH_QUERY_CHARS

MANY_WORDS = "q " * 999  # each word was one OR'ed LIKE: SQLite's expression tree overflowed
HUGE_WORD = "x" * 60_000  # one LIKE pattern over SQLite's 50,000-byte limit


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_a_message_search_with_too_many_words_or_too_long_a_word_is_refused(
    http: httpx.Client,
) -> None:
    _refused(http.post("/v1/messages/search", json={"query": MANY_WORDS}))
    _refused(http.post("/v1/messages/search", json={"query": HUGE_WORD}))
    _refused(http.post("/v1/messages/search", json={"query": "y" * (MAX_SEARCH_QUERY_CHARS + 1)}))


def test_repeated_words_are_merged_and_a_search_at_the_limit_finds_messages(
    http: httpx.Client,
) -> None:
    agent = make_agent(http)
    word = unique("okapi")
    send(http, agent["id"], f"I saw an {word} today")
    query = (f"{word} " * MAX_SEARCH_QUERY_CHARS)[:MAX_SEARCH_QUERY_CHARS]
    found = http.post("/v1/messages/search", json={"query": query, "agent_id": agent["id"]})
    assert found.status_code == 200, found.text
    assert any(word in (m.get("content") or "") for m in found.json())
    # Many distinct words, all within the limit: answered, not a database failure.
    distinct = " ".join(f"w{i}" for i in range(300))[:MAX_SEARCH_QUERY_CHARS]
    assert http.post("/v1/messages/search", json={"query": distinct}).status_code == 200


def test_conversation_search_with_a_huge_query_is_a_tool_error_and_the_turn_completes(
    http: httpx.Client,
) -> None:
    agent = make_agent(http)
    word = unique("lemur")
    huge = " ".join(f"w{i}" for i in range(1500))
    result = send(
        http,
        agent["id"],
        script(
            {"tool": "conversation_search", "args": {"query": huge}},
            {"tool": "send_message", "args": {"message": f"done {word}"}},
        ),
    )
    assert result["stop_reason"]["stop_reason"] == "end_turn"
    (returned,) = of_type(result, "tool_return_message")
    assert returned["status"] == "error"
    assert str(MAX_SEARCH_QUERY_CHARS) in returned["tool_return"]
    assert "SELECT" not in returned["tool_return"]
    assert len(returned["tool_return"]) < 500
    assert [m["content"] for m in of_type(result, "assistant_message")] == [f"done {word}"]
    history = http.get(f"/v1/agents/{agent['id']}/messages", params={"limit": 50}).json()
    assert any(
        huge in str(m.get("content")) for m in of_type({"messages": history}, "user_message")
    )


def test_agent_name_filters_over_the_limit_are_refused_and_normal_ones_work(
    http: httpx.Client,
) -> None:
    _refused(http.get("/v1/agents/", params={"query_text": HUGE_WORD}))
    _refused(http.get("/v1/tags/", params={"query_text": HUGE_WORD}))
    condition = {"field": "name", "operator": "contains", "value": HUGE_WORD}
    _refused(http.post("/v1/agents/search", json={"search": [condition]}))

    name = unique("capybara")
    agent = make_agent(http, name=name)
    part = name[2:].upper()
    listed = http.get("/v1/agents/", params={"query_text": part})
    assert [a["id"] for a in listed.json()] == [agent["id"]]
    at_limit = http.get("/v1/agents/", params={"query_text": "z" * MAX_NAME_FILTER_CHARS})
    assert at_limit.status_code == 200
    assert at_limit.json() == []
    condition = {"field": "name", "operator": "contains", "value": part}
    searched = http.post("/v1/agents/search", json={"search": [condition]})
    assert [a["id"] for a in searched.json()["agents"]] == [agent["id"]]
