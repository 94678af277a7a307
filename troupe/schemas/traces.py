"""A trace: everything one request caused, across agents."""

from datetime import datetime
from typing import Any

from pydantic import Field

from troupe.schemas.common import OutputModel
from troupe.schemas.messages import LettaMessage


class TraceAgent(OutputModel):
    id: str
    name: str


class TraceRun(OutputModel):
    id: str
    agent_id: str
    agent_name: str
    parent_run_id: str | None
    kind: str = Field(
        description="`request` (from outside), `call` (send-and-wait or broadcast) "
        "or `delivery` (async send)"
    )
    status: str
    stop_reason: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None
    usage: dict[str, Any]
    messages: list[LettaMessage]
    children: list["TraceRun"] = Field(default_factory=list)


class Trace(OutputModel):
    trace_id: str
    agents: list[TraceAgent]
    runs: list[TraceRun] = Field(description="The run tree: runs with no parent in this trace.")
    deliveries: list[dict[str, Any]]
    mermaid: str = Field(description="A Mermaid sequenceDiagram of the cross-agent traffic.")


class TraceSummary(OutputModel):
    """One line of GET /v1/traces: enough to pick the trace to open."""

    trace_id: str
    root_agent_id: str = Field(description="The agent the request was sent to.")
    root_agent_name: str
    agents: list[TraceAgent]
    run_count: int
    status: str = Field(
        description="`failed` if any run failed, `running` while any is unfinished, "
        "else the root run's status"
    )
    started_at: datetime
    completed_at: datetime | None = Field(description="When the last run finished, once all have.")
    duration_ms: int | None
