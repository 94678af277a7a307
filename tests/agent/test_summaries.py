"""The pieces of summaries, in-process: when the window says a summary is due, what it
evicts, how the summary heads the history, and the summariser's request and answer."""

from troupe.agent.compaction import Compaction, evictable
from troupe.agent.history import HeldSummary, Window
from troupe.agent.summarizer import chunks, clip, summary_request, transcript
from troupe.llm.testing import summarizer
from troupe.store.tables import MessageRow

LIMIT = 200


def talk(count: int, start: int = 1) -> list[MessageRow]:
    """`count` exchanges: a user message (about 25 tokens) and a reply, two rows each."""
    rows = []
    for i in range(count):
        seq = start + 2 * i
        rows.append(MessageRow(id=f"m{seq}", seq=seq, message_type="user_message",
                               content=f"Message {seq}. " + "words " * 15))  # fmt: skip
        rows.append(MessageRow(id=f"m{seq + 1}", seq=seq + 1, message_type="assistant_message",
                               step_id=f"s{seq}", tool_call_id=f"c{seq}", content="ok"))  # fmt: skip
    return rows


def window_of(rows: list[MessageRow]) -> Window:
    window = Window(LIMIT)
    window.extend(rows)
    return window


HOW = Compaction(model="test/summarizer", evict_all=False, keep=0.3, clip_chars=50_000, prompt="")


def test_no_summary_is_due_while_the_history_fits() -> None:
    fitted = window_of(talk(10)).fit([], budget_tokens=10_000)
    assert not fitted.summary_due
    assert len(fitted.messages) == 10 * 3  # user, assistant turn, send_message receipt


def test_a_summary_is_due_once_the_budget_trims_an_exchange() -> None:
    window = window_of(talk(40))
    assert window.fit([], budget_tokens=500).summary_due


def test_a_summary_is_due_when_rows_after_it_left_the_window() -> None:
    window = Window(LIMIT)
    window.extend(talk(10, start=21))  # rows 1..20 are neither summarised nor held
    assert window.fit([], budget_tokens=10_000).summary_due
    window.summary = HeldSummary.of("earlier", through_seq=20, count=20)
    assert not window.fit([], budget_tokens=10_000).summary_due


def test_the_summary_heads_the_history_and_counts_against_the_budget() -> None:
    window = window_of(talk(40))
    before = window.fit([], budget_tokens=800).messages
    window.summary = HeldSummary.of("x " * 200, through_seq=0, count=0)
    fitted = window.fit([], budget_tokens=800)
    assert fitted.messages[0].role == "user"
    assert "Summary of them:\nx x" in (fitted.messages[0].content or "")
    assert len(fitted.messages) - 1 < len(before)


def test_eviction_leaves_the_kept_share_of_the_budget_and_spares_a_turn_in_progress() -> None:
    window = window_of(talk(40))
    count = evictable(window, HOW, budget=600, protect_newest=False)
    kept = sum(e.tokens for e in window.exchanges[count:])
    assert kept <= 0.3 * 600 < kept + window.exchanges[count - 1].tokens
    everything = Compaction(**{**HOW.__dict__, "evict_all": True})
    assert evictable(window, everything, budget=600, protect_newest=True) == 39
    assert evictable(window, everything, budget=600, protect_newest=False) == 40


def test_rows_a_summary_covers_never_join_the_window_and_eviction_drops_exchanges() -> None:
    rows = talk(10)
    window = Window(LIMIT)
    window.summary = HeldSummary.of("s", through_seq=8, count=8)
    window.extend(rows)
    assert window.first_seq == 9
    assert window.last_seq == 20
    window.summarized(HeldSummary.of("t", through_seq=12, count=12), evicted=2)
    assert window.first_seq == 13
    assert window.rows == 8
    assert window.summary is not None
    assert window.summary.text == "t"


def test_the_deterministic_summariser_keeps_the_previous_summary_and_adds_user_lines() -> None:
    lines = transcript(talk(2))
    assert lines[0].startswith("user: Message 1.")
    assert lines[1] == "assistant: ok"
    first = summarizer(summary_request("prompt {words}", "", lines, 2000)).content or ""
    assert first == "- Message 1.\n- Message 3."
    request = summary_request("prompt {words}", first, transcript(talk(1, start=5)), 2000)
    assert "<summary>\n- Message 1." in (request.messages[1].content or "")
    second = summarizer(request).content or ""
    assert second == "- Message 1.\n- Message 3.\n- Message 5."


def test_clipping_and_chunking() -> None:
    assert clip("short", 10) == "short"
    clipped = clip("one two three four five six", 15)
    assert len(clipped) <= 15
    assert clipped.endswith("…")
    runs = chunks(["a" * 40, "b" * 40, "c" * 40], room_chars=90)
    assert runs == [["a" * 40, "b" * 40], ["c" * 40]]
