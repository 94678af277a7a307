"""/v1/agents/{id}: what the context window holds, core memory, summaries on demand, and
clearing the history."""

from fastapi import Response

from troupe.schemas.agents import AgentState, Memory
from troupe.schemas.context import ContextWindowOverview, MemoryVariables
from troupe.schemas.summaries import CompactionResponse, ResetMessagesRequest, SummarizeRequest
from troupe.server.deps import DatabaseDep, ExecutorDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import context, summaries
from troupe.store.messages import History

router = APIRouter(prefix="/v1/agents", tags=["memory"])


@router.get("/{agent_id}/context", response_model=ContextWindowOverview)
async def retrieve_context(executor: ExecutorDep, agent_id: str) -> Response:
    return json_response(await context.context_overview(executor.rt, agent_id))


@router.get("/{agent_id}/core-memory", response_model=Memory)
async def retrieve_core_memory(db: DatabaseDep, agent_id: str) -> Response:
    return json_response(await context.core_memory(db, agent_id))


@router.get("/{agent_id}/core-memory/variables", response_model=MemoryVariables)
async def retrieve_memory_variables(db: DatabaseDep, agent_id: str) -> Response:
    return json_response(await context.memory_variables(db, agent_id))


@router.post("/{agent_id}/summarize", response_model=CompactionResponse)
async def summarize(
    executor: ExecutorDep, agent_id: str, body: SummarizeRequest | None = None
) -> Response:
    settings = body.compaction_settings if body is not None else None
    return json_response(await summaries.summarize(executor, History(agent_id), settings))


@router.patch("/{agent_id}/reset-messages", response_model=AgentState)
async def reset_messages(
    executor: ExecutorDep,
    agent_id: str,
    body: ResetMessagesRequest | None = None,
    add_default_initial_messages: bool | None = None,  # 0.1.x sends it in the query
) -> Response:
    return json_response(await summaries.reset_messages(executor, agent_id))
