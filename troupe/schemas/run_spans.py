"""The spans of a run or a step as `/v1/runs/{id}/trace` and `/v1/steps/{id}/trace` answer
them (letta-client 1.12.1 reads a list of objects, and a `ProviderTrace`). Letta read its
spans from ClickHouse's OpenTelemetry table; troupe builds the same rows from what it
stores of every run, so these answer without any exporter."""

from datetime import datetime
from typing import Any

from pydantic import Field

from troupe.schemas.common import OutputModel


class StoredSpan(OutputModel):
    """One span, under the column names of the OpenTelemetry collector's ClickHouse table."""

    Timestamp: datetime = Field(description="When the span started.")
    TraceId: str
    SpanId: str
    ParentSpanId: str
    SpanName: str
    SpanKind: str
    ServiceName: str = "troupe"
    Duration: int = Field(description="Nanoseconds.")
    StatusCode: str
    StatusMessage: str = ""
    SpanAttributes: dict[str, str]


class StepTrace(OutputModel):
    """Letta's `ProviderTrace` of one step. troupe keeps no provider payloads: the request is
    the step's model and input messages, the response its usage and the messages it produced
    (Letta's message objects); `spans` are the step's `chat` and `execute_tool` spans."""

    id: str
    step_id: str
    run_id: str
    agent_id: str
    call_type: str = "agent_step"
    source: str = "troupe"
    created_at: datetime
    request_json: dict[str, Any]
    response_json: dict[str, Any]
    llm_config: dict[str, Any]
    spans: list[StoredSpan]
