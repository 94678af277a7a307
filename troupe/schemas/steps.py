"""Steps in Letta's shapes: one model call of a run, its timings, and feedback on it."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from troupe.schemas.common import InputModel, OutputModel

Feedback = Literal["positive", "negative"]


class Step(OutputModel):
    """1.x reads `run_id`, 0.1.x `job_id`: both name the step's run."""

    id: str
    run_id: str
    job_id: str
    agent_id: str
    trace_id: str | None = None
    model: str
    model_handle: str
    provider_name: str | None = None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    status: Literal["success"] = "success"  # a step is stored once it has succeeded
    feedback: Feedback | None = None
    tags: list[str] = Field(default_factory=list)
    origin: str = "troupe"
    created_at: datetime


class StepMetrics(OutputModel):
    """Timings of a step in nanoseconds, as Letta's; troupe adds them in milliseconds, with
    the time of the step's write to the store."""

    id: str
    run_id: str
    job_id: str
    agent_id: str
    step_start_ns: int | None = None
    llm_request_ns: int
    tool_execution_ns: int | None = None
    step_ns: int | None = None
    model_ms: int
    tools_ms: int | None = None
    store_ms: int | None = None


class StepFeedback(InputModel):
    """Body of PATCH /v1/steps/{step_id}/feedback; `feedback: null` takes it back."""

    feedback: Feedback | None = None
    tags: list[str] | None = None
