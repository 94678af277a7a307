"""Searches of tools (1.x) and agents (0.1.x), and an agent's recompiled system prompt."""

from fastapi import Response
from fastapi.responses import PlainTextResponse

from troupe.schemas.searches import (
    AgentSearchRequest,
    AgentSearchResponse,
    ToolSearchRequest,
    ToolSearchResult,
)
from troupe.server.deps import DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import searches as service

router = APIRouter(tags=["search"])


@router.post("/v1/tools/search", response_model=list[ToolSearchResult])
async def search_tools(db: DatabaseDep, body: ToolSearchRequest) -> Response:
    """Tools whose name or description holds the query's words, best first; filter by
    `tags` (any of them) and `tool_types`."""
    return json_response(await service.search_tools(db, body))


@router.post("/v1/agents/search", response_model=AgentSearchResponse)
async def search_agents(db: DatabaseDep, body: AgentSearchRequest) -> Response:
    """0.1.x: agents by `name` (eq or contains) and `tags` (has every one), oldest first;
    `nextCursor` pages on with `after`."""
    return json_response(await service.search_agents(db, body))


@router.post("/v1/agents/{agent_id}/recompile", response_class=PlainTextResponse)
async def recompile_agent(
    db: DatabaseDep, agent_id: str, dry_run: bool = False, update_timestamp: bool = False
) -> PlainTextResponse:
    """The agent's system prompt with its memory blocks as they are now (troupe compiles it
    at every step, so there is nothing else to do). Plain text: the SDK reads it as is."""
    return PlainTextResponse(await service.recompile(db, agent_id))
