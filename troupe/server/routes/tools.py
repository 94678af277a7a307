"""/v1/tools: tools from Python source."""

from typing import Annotated, Any

from fastapi import Query, Response

from troupe.schemas.messages import ToolReturnMessage
from troupe.schemas.tools import Tool, ToolCreate, ToolRunFromSource, ToolUpdate
from troupe.server.deps import DatabaseDep, ExecutorDep, PageDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import tool_runs
from troupe.services import tools as service

router = APIRouter(prefix="/v1/tools", tags=["tools"])


@router.post("", response_model=Tool)
async def create_tool(db: DatabaseDep, body: ToolCreate) -> Response:
    """Create a tool; 409 if one with the function's name exists (use PUT to upsert)."""
    return json_response(await service.create_tool(db, body))


@router.put("", response_model=Tool)
async def upsert_tool(db: DatabaseDep, body: ToolCreate) -> Response:
    return json_response(await service.upsert_tool(db, body))


@router.post("/add-base-tools", response_model=list[Tool])
async def add_base_tools(db: DatabaseDep) -> Response:
    """0.1.x: the built-in tools, stored (troupe stores them at every start)."""
    return json_response(await service.base_tools(db))


@router.post("/run", response_model=ToolReturnMessage)
async def run_tool_from_source(executor: ExecutorDep, body: ToolRunFromSource) -> Response:
    """Run a function from source in the sandbox (0.1.x); no tool is stored."""
    return json_response(await tool_runs.run_from_source(executor.rt, body))


@router.get("", response_model=list[Tool])
async def list_tools(
    db: DatabaseDep,
    page: PageDep,
    name: str | None = None,
    names: Annotated[list[str] | None, Query()] = None,
    search: str | None = None,
    tool_ids: Annotated[list[str] | None, Query()] = None,
    tool_types: Annotated[list[str] | None, Query()] = None,
    exclude_tool_types: Annotated[list[str] | None, Query()] = None,
    return_only_letta_tools: bool = False,
) -> Response:
    """Tools narrowed by every filter given: `name`/`names` exact, `search` a case-insensitive
    part of the name, `tool_ids`, `tool_types` and `exclude_tool_types` (repeated or
    comma-separated), `return_only_letta_tools` (types starting with "letta_")."""
    return json_response(
        await service.list_tools(
            db,
            page,
            names=[*([name] if name else []), *(names or [])],
            search=search,
            tool_ids=tool_ids or [],
            tool_types=tool_types or [],
            exclude_tool_types=exclude_tool_types or [],
            only_letta_tools=return_only_letta_tools,
        )
    )


@router.get("/{tool_id}", response_model=Tool)
async def retrieve_tool(db: DatabaseDep, tool_id: str) -> Response:
    return json_response(await service.get_tool(db, tool_id))


@router.patch("/{tool_id}", response_model=Tool)
async def modify_tool(db: DatabaseDep, tool_id: str, body: ToolUpdate) -> Response:
    return json_response(await service.update_tool(db, tool_id, body))


@router.delete("/{tool_id}")
async def delete_tool(db: DatabaseDep, tool_id: str) -> dict[str, Any]:
    await service.delete_tool(db, tool_id)
    return {"message": f"tool {tool_id} deleted"}
