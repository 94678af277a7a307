"""A turn's answer written without its pydantic models (services/answer_json.py) is, byte for
byte, what the `LettaResponse` model serialises to, for each SDK line's context; answers with
a message it does not write go the models' way."""

import json
from datetime import UTC, datetime

import pytest
from fastapi import Response

from troupe.agent.messages import Message
from troupe.agent.turn import TurnResult
from troupe.schemas.common import LEGACY_SDK_CONTEXT
from troupe.server.responses import RUN_HEADER, TRACE_HEADER, turn_response
from troupe.services.answer_json import answer_json
from troupe.services.messages import TurnAnswer, shown
from troupe.store.tables import RunRow

ODD = 'quotes " and \\ back, </script>, tab\t, newline\n, \x01, é, 漢字, 🎭, \u2028'
WHEN = datetime(2026, 12, 6, 19, 30, 1, 123456, tzinfo=UTC)


def _row(kind: str, **fields: object) -> Message:
    fields.setdefault("run_id", "run-1")
    fields.setdefault("step_id", "step-1")
    return Message(kind, **fields)  # type: ignore[arg-type]


def _call(kind: str, call_id: str, step: str = "step-1") -> Message:
    arguments = json.dumps({"query": ODD})
    return _row(
        kind, tool_name="search", tool_arguments=arguments, tool_call_id=call_id, step_id=step
    )


TURNS: dict[str, tuple[list[Message], dict[str, object]]] = {
    "echo": (
        [
            _row("user_message", content="hello there", is_input=True, step_id=None),
            _row("assistant_message", content="echo: hello there", seq=7, otid="otid-1"),
        ],
        {"prompt_tokens": 120, "completion_tokens": 4, "steps": 1},
    ),
    "tools in parallel, grouped by step": (
        [
            _row("reasoning_message", content=ODD, created_at=WHEN),
            _call("tool_call_message", "call-1"),
            _call("tool_call_message", "call-2"),
            _row("tool_return_message", content="found", tool_call_id="call-1", stdout="out"),
            _row(
                "tool_return_message",
                content=ODD,
                tool_call_id="call-2",
                tool_status="error",
                stderr="Traceback",
            ),
            _call("tool_call_message", "call-3", step="step-2"),
            _row("tool_return_message", content="", tool_call_id="call-3", step_id="step-2"),
            _row("assistant_message", content=ODD, step_id="step-3", name="helper"),
        ],
        {"prompt_tokens": 3000, "completion_tokens": 90, "steps": 3},
    ),
    "calls without a step are not grouped": (
        [
            _call("tool_call_message", "call-1", step=""),
            _call("tool_call_message", "call-2", step=""),
        ],
        {"steps": 1},
    ),
    "approvals": (
        [
            _call("approval_request_message", "call-1"),
            _call("approval_request_message", "call-2"),
        ],
        {"stop_reason": "requires_approval", "steps": 1},
    ),
    "failed": ([], {"stop_reason": "error", "error": f"the model failed: {ODD}"}),
    "from another agent": (
        [
            _row("user_message", content=ODD, sender_agent_id="agent-2", otid="o"),
            _row("system_message", content="a note", seq=3),
            _row("assistant_message", content=None),
        ],
        {"stop_reason": "max_steps", "steps": 50},
    ),
}
# Answers the models write: a message of a type (or with images) answer_json leaves to them.
MODEL_TURNS: dict[str, list[Message]] = {
    "images": [
        _row(
            "user_message",
            content="look",
            images=[{"type": "base64", "media_type": "image/png", "data": "iVBO"}],
        ),
        _row("assistant_message", content="a cat"),
    ],
    "approval answered": [
        _row(
            "approval_response_message",
            content=json.dumps([{"type": "approval", "tool_call_id": "call-1", "approve": True}]),
        ),
        _call("tool_call_message", "call-1"),
    ],
    "compaction": [
        _row("event_message", compaction={"trigger": "context_window_exceeded"}),
        _row(
            "summary_message",
            content="so far",
            compaction={
                "trigger": "x",
                "context_window": 9,
                "messages_count_before": 40,
                "messages_count_after": 4,
            },
        ),
        _row("assistant_message", content="hi"),
    ],
}
RUNS = [RunRow(id="run-1", trace_id="0af7651916cd43dd8448eb211c80319c"), RunRow(id="run-2")]
WANTED = [None, ["assistant_message"], ["tool_call_message", "tool_return_message"], []]


def _model_bytes(answer: TurnAnswer, context: dict[str, object] | None) -> bytes:
    model = answer.response()
    return model.__pydantic_serializer__.to_json(model, context=context)


@pytest.mark.parametrize("name", list(TURNS))
def test_answers_written_without_models_are_the_models_bytes(name: str) -> None:
    rows, fields = TURNS[name]
    for run in RUNS:
        for wanted in WANTED:
            answer = TurnAnswer(TurnResult(rows=rows, **fields), run, wanted)  # type: ignore[arg-type]
            written = answer_json(answer.result, run.id, run.trace_id, shown(rows, wanted))
            assert written is not None
            for context in (None, LEGACY_SDK_CONTEXT):
                assert answer.json(context) == _model_bytes(answer, context)
            assert written == answer.json(None)
    if name == "tools in parallel, grouped by step":
        shape = json.loads(TurnAnswer(TurnResult(rows=rows), RUNS[0], None).json(None))
        assert [
            len(m.get("tool_calls") or m.get("tool_returns") or []) for m in shape["messages"]
        ] == [0, 2, 2, 1, 1, 0]


@pytest.mark.parametrize("name", list(MODEL_TURNS))
def test_other_answers_are_the_models(name: str) -> None:
    rows = MODEL_TURNS[name]
    answer = TurnAnswer(TurnResult(rows=rows, steps=1), RUNS[0], None)
    assert answer_json(answer.result, "run-1", None, shown(rows, None)) is None
    legacy, newest = answer.json(LEGACY_SDK_CONTEXT), answer.json(None)
    assert legacy == _model_bytes(answer, LEGACY_SDK_CONTEXT)
    assert newest == _model_bytes(answer, None)
    if name == "images":  # the 0.1.x SDK reads text parts only
        assert json.loads(legacy)["messages"][0]["content"] == "look"
        assert json.loads(newest)["messages"][0]["content"][1]["type"] == "image"


def test_a_turns_response_has_starlettes_headers() -> None:
    rows, fields = TURNS["echo"]
    for run in RUNS:
        answer = TurnAnswer(TurnResult(rows=rows, **fields), run, None)  # type: ignore[arg-type]
        sent = turn_response(answer)
        ids = {RUN_HEADER: run.id, TRACE_HEADER: run.trace_id or ""}
        starlettes = Response(answer.json(None), headers=ids, media_type="application/json")
        assert (sent.status_code, sent.body, sent.raw_headers, sent.background) == (
            starlettes.status_code,
            starlettes.body,
            starlettes.raw_headers,
            starlettes.background,
        )
