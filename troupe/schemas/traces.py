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
