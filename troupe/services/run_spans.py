"""The spans of a run or a step, built from what troupe stores (runs, steps, messages):
the same `invoke_agent` / `chat` / `execute_tool` tree an OpenTelemetry exporter sends,
available with no exporter configured. Span ids are derived from troupe's ids, so a run's
span is the parent of the runs it started whichever of them is asked for."""

import hashlib
from datetime import datetime
from typing import Any

from troupe.observability import genai
from troupe.schemas.run_spans import StepTrace, StoredSpan
from troupe.services.views import message_view
from troupe.store import Database, step_rows
from troupe.store import agents as agent_store
from troupe.store import runs as run_store
from troupe.store import traces as trace_store
from troupe.store.tables import MessageRow, RunRow, StepRow

NS_PER_MS = 1_000_000
INPUT_TYPES = {"user_message", "system_message", "approval_response_message"}


async def run_spans(db: Database, run_id: str, limit: int) -> list[StoredSpan]:
    async with db.read() as session:
        run = await run_store.get_run(session, run_id)
        steps = await trace_store.steps_of_run(session, run_id)
        messages = await trace_store.messages_of_runs(session, [run_id])
        names = await agent_store.names_of_agents(session, [run.agent_id])
    spans = [_run_span(run, names.get(run.agent_id, run.agent_id), steps)]
    for step in steps:
        spans += _step_spans(run, step, [m for m in messages if m.step_id == step.id])
    return spans[:limit]


async def step_trace(db: Database, step_id: str) -> StepTrace:
    async with db.read() as session:
        step = await step_rows.get_step(session, step_id)
        run = await run_store.get_run(session, step.run_id)
        steps = await trace_store.steps_of_run(session, step.run_id)
        of_run = await trace_store.messages_of_runs(session, [step.run_id])
    # The run's input is stored before its first step, under no step.
    first = bool(steps) and steps[0].id == step.id
    messages = [m for m in of_run if m.step_id == step.id or (first and m.step_id is None)]
    provider, model = genai.provider_and_model(step.model)
    views = [(m.message_type, message_view(m).model_dump(mode="json")) for m in messages]
    return StepTrace(
        id=f"provider_trace-{step.id.removeprefix('step-')}",
        step_id=step.id,
        run_id=step.run_id,
        agent_id=step.agent_id,
        created_at=step.created_at,
        request_json={
            "model": model,
            "provider": provider,
            "input": [view for kind, view in views if kind in INPUT_TYPES],
        },
        response_json={
            "model": model,
            "usage": {
                "prompt_tokens": step.prompt_tokens,
                "completion_tokens": step.completion_tokens,
                "total_tokens": step.prompt_tokens + step.completion_tokens,
            },
            "finish_reason": _finish_reason(messages),
            "output": [view for kind, view in views if kind not in INPUT_TYPES],
        },
        llm_config={"model": model, "handle": step.model, "model_endpoint_type": provider},
        spans=_step_spans(run, step, [m for m in messages if m.step_id == step.id]),
    )


def span_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _trace_id(run: RunRow) -> str:
    return hashlib.sha256((run.trace_id or run.id).encode()).hexdigest()[:32]


def _run_span(run: RunRow, agent_name: str, steps: list[StepRow]) -> StoredSpan:
    started = run.started_at or run.created_at
    usage = run.usage or {}
    attributes = {
        genai.OPERATION: "invoke_agent",
        genai.AGENT_ID: run.agent_id,
        genai.AGENT_NAME: agent_name,
        genai.CONVERSATION_ID: run.agent_id,
        genai.INPUT_TOKENS: usage.get("prompt_tokens", 0),
        genai.OUTPUT_TOKENS: usage.get("completion_tokens", 0),
        genai.RUN_ID: run.id,
        genai.TRACE_ID: run.trace_id or run.id,
    }
    if steps:
        attributes[genai.REQUEST_MODEL] = genai.provider_and_model(steps[0].model)[1]
        attributes[genai.PROVIDER] = genai.provider_and_model(steps[0].model)[0]
    if run.stop_reason:
        attributes[genai.FINISH_REASONS] = run.stop_reason
    status = {"completed": "STATUS_CODE_OK", "failed": "STATUS_CODE_ERROR"}
    return StoredSpan(
        Timestamp=started,
        TraceId=_trace_id(run),
        SpanId=span_id(run.id),
        ParentSpanId=span_id(run.parent_run_id) if run.parent_run_id else "",
        SpanName=f"invoke_agent {agent_name}",
        SpanKind="SPAN_KIND_INTERNAL",
        Duration=_nanoseconds(started, run.completed_at),
        StatusCode=status.get(run.status, "STATUS_CODE_UNSET"),
        StatusMessage=run.error or "",
        SpanAttributes=_texts(attributes),
    )


def _step_spans(run: RunRow, step: StepRow, messages: list[MessageRow]) -> list[StoredSpan]:
    """The step's model call, then its tool calls (each spanning the step's tool time: troupe
    times a step's tools together)."""
    provider, model = genai.provider_and_model(step.model)
    model_ns = step.model_ms * NS_PER_MS
    started = step.started_at or step.created_at
    chat_id = span_id(step.id)
    chat = StoredSpan(
        Timestamp=started,
        TraceId=_trace_id(run),
        SpanId=chat_id,
        ParentSpanId=span_id(run.id),
        SpanName=f"chat {model}",
        SpanKind="SPAN_KIND_CLIENT",
        Duration=model_ns,
        StatusCode="STATUS_CODE_OK",
        SpanAttributes=_texts(
            {
                genai.OPERATION: "chat",
                genai.PROVIDER: provider,
                genai.REQUEST_MODEL: model,
                genai.AGENT_ID: step.agent_id,
                genai.CONVERSATION_ID: step.agent_id,
                genai.INPUT_TOKENS: step.prompt_tokens,
                genai.OUTPUT_TOKENS: step.completion_tokens,
                genai.FINISH_REASONS: _finish_reason(messages),
                genai.STEP_ID: step.id,
            }
        ),
    )
    returns = {m.tool_call_id: m for m in messages if m.message_type == "tool_return_message"}
    tools = [
        _tool_span(run, step, call, returns[call.tool_call_id], chat.Timestamp, model_ns)
        for call in messages
        if call.message_type == "tool_call_message" and call.tool_call_id in returns
    ]
    return [chat, *tools]


def _tool_span(
    run: RunRow, step: StepRow, call: MessageRow, result: MessageRow, at: datetime, after_ns: int
) -> StoredSpan:
    failed = result.tool_status == "error"
    return StoredSpan(
        Timestamp=datetime.fromtimestamp(at.timestamp() + after_ns / 1e9, tz=at.tzinfo),
        TraceId=_trace_id(run),
        SpanId=span_id(f"{step.id}/{call.tool_call_id}"),
        ParentSpanId=span_id(run.id),
        SpanName=f"execute_tool {call.tool_name}",
        SpanKind="SPAN_KIND_INTERNAL",
        Duration=(step.tools_ms or 0) * NS_PER_MS,
        StatusCode="STATUS_CODE_ERROR" if failed else "STATUS_CODE_OK",
        SpanAttributes=_texts(
            {
                genai.OPERATION: "execute_tool",
                genai.TOOL_NAME: call.tool_name,
                genai.TOOL_CALL_ID: call.tool_call_id,
                genai.TOOL_TYPE: "function",
                genai.STEP_ID: step.id,
                **({genai.ERROR_TYPE: "troupe.tool_error"} if failed else {}),
            }
        ),
    )


def _finish_reason(messages: list[MessageRow]) -> str:
    return "tool_calls" if any(m.message_type == "tool_call_message" for m in messages) else "stop"


def _nanoseconds(start: datetime, end: datetime | None) -> int:
    return 0 if end is None else max(0, int((end - start).total_seconds() * 1e9))


def _texts(attributes: dict[str, Any]) -> dict[str, str]:
    """ClickHouse's SpanAttributes map holds text."""
    return {key: str(value) for key, value in attributes.items() if value is not None}
