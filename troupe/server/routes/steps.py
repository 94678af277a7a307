"""/v1/steps: each model call of a run, its messages, timings, and feedback on it."""

from typing import Annotated

from fastapi import Query, Response

from troupe.schemas.messages import LettaMessage
from troupe.schemas.run_spans import StepTrace
from troupe.schemas.steps import Feedback, Step, StepFeedback, StepMetrics
from troupe.server.deps import DatabaseDep, ExecutorDep, MessagePageDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import run_spans
from troupe.services import steps as service

router = APIRouter(prefix="/v1/steps", tags=["steps"])


@router.get("", response_model=list[Step])
async def list_steps(
    executor: ExecutorDep,
    page: PageDep,
    agent_id: str | None = None,
    model: str | None = None,
    feedback: Feedback | None = None,
    has_feedback: bool | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
    trace_ids: Annotated[list[str] | None, Query()] = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    """Steps, newest first (`order=asc` for oldest first), with Letta's filters."""
    where = service.step_filter(
        agent_id=agent_id,
        model=model,
        feedback=feedback,
        has_feedback=has_feedback,
        tags=tags,
        trace_ids=trace_ids,
        start_date=start_date,
        end_date=end_date,
    )
    return json_response(await service.list_steps(executor.rt, page, where))


@router.get("/{step_id}", response_model=Step)
async def retrieve_step(executor: ExecutorDep, step_id: str) -> Response:
    return json_response(await service.get_step(executor.rt, step_id))


@router.get("/{step_id}/messages", response_model=list[LettaMessage])
async def list_step_messages(executor: ExecutorDep, step_id: str, page: MessagePageDep) -> Response:
    return json_response(await service.step_messages(executor.rt, step_id, page))


@router.get("/{step_id}/metrics", response_model=StepMetrics)
async def retrieve_step_metrics(executor: ExecutorDep, step_id: str) -> Response:
    """How long the step's model call, tool calls and write to the store took."""
    return json_response(await service.step_metrics(executor.rt, step_id))


@router.patch("/{step_id}/feedback", response_model=Step)
async def give_step_feedback(executor: ExecutorDep, step_id: str, body: StepFeedback) -> Response:
    return json_response(await service.give_feedback(executor.rt, step_id, body))


@router.get("/{step_id}/trace", response_model=StepTrace)
async def retrieve_step_trace(db: DatabaseDep, step_id: str) -> Response:
    """Letta's provider trace of the step, from what troupe stores (no provider payloads:
    see troupe.schemas.run_spans), with the step's spans."""
    return json_response(await run_spans.step_trace(db, step_id))
