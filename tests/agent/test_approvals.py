"""Which calls wait for an answer, and how a history with an approval reads to the model."""

from troupe.agent.approvals import (
    CANCEL_REASON,
    Answer,
    answers_text,
    awaiting_calls,
    cancelled_calls,
    deferred_calls,
    denial_text,
    parse_answers,
)
from troupe.agent.exchanges import history_messages
from troupe.store.tables import MessageRow


def row(
    seq: int, kind: str, step: str | None = None, call: str | None = None, **more: str
) -> MessageRow:
    return MessageRow(
        id=f"m{seq}", seq=seq, message_type=kind, step_id=step, tool_call_id=call, **more
    )


ASKED = [
    row(1, "user_message", content="launch it"),
    row(2, "reasoning_message", "s1", content="needs a go-ahead"),
    row(3, "approval_request_message", "s1", "c1", tool_name="launch", tool_arguments='{"n": 1}'),
    row(4, "tool_call_message", "s1", "c2", tool_name="look", tool_arguments="{}"),
    row(5, "tool_return_message", "s1", "c2", tool_name="look", content="clear"),
]


def test_the_calls_of_the_newest_step_without_a_result_wait() -> None:
    assert [r.tool_call_id for r in awaiting_calls(ASKED)] == ["c1"]
    answered = [
        *ASKED,
        row(6, "approval_response_message", "s2", "c1", content="[]"),
        row(7, "tool_return_message", "s2", "c1", tool_name="launch", content="done"),
    ]
    assert awaiting_calls(answered) == []
    assert awaiting_calls([row(1, "user_message", content="hi")]) == []
    assert awaiting_calls([]) == []


def test_an_answered_approval_reads_as_a_call_and_its_result() -> None:
    answered = [
        *ASKED,
        row(6, "approval_response_message", "s2", "c1", content="[]"),
        row(7, "tool_return_message", "s2", "c1", tool_name="launch", content=denial_text("no")),
    ]
    turns = history_messages(answered)
    assert [m.role for m in turns] == ["user", "assistant", "tool", "tool"]
    assert [c.id for c in turns[1].tool_calls] == ["c1", "c2"]
    assert turns[3].content == "Error: request to call tool denied. User reason: no"


def test_answers_keep_their_shape_through_storage() -> None:
    answers = [
        Answer("c1", approve=False, reason="later"),
        Answer("c2", tool_return="42", status="error", stderr=["oops"]),
    ]
    assert parse_answers(answers_text(answers)) == answers


def test_calls_of_a_waiting_step_wait_with_it_and_a_cancel_answers_them_all() -> None:
    assert deferred_calls(ASKED) == []  # c2 has its result already
    deferred = [*ASKED[:4], row(5, "tool_call_message", "s1", "c3", tool_name="look")]
    assert [r.tool_call_id for r in deferred_calls(deferred)] == ["c2", "c3"]
    assert deferred_calls(ASKED[:1]) == []  # nothing waits: nothing is deferred

    stored = cancelled_calls(deferred, run_id="run-1", trace_id="trace-1")
    response, *returns = stored
    assert response.message_type == "approval_response_message"
    assert [a.tool_call_id for a in parse_answers(response.content or "")] == ["c1"]
    assert {(m.tool_call_id, m.tool_status) for m in returns} == {
        ("c1", "error"),
        ("c2", "error"),
        ("c3", "error"),
    }
    assert all(m.content == denial_text(CANCEL_REASON) for m in returns)
    assert len({m.step_id for m in stored}) == 1
    assert {m.run_id for m in stored} == {"run-1"}
