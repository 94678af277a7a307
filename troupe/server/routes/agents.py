"""/v1/agents: agents and what is attached to them."""

from typing import Annotated, Any

from fastapi import Query, Response

from troupe.schemas.agents import AgentCreate, AgentState, AgentUpdate, ApprovalSwitch
from troupe.schemas.blocks import Block, BlockUpdate
from troupe.schemas.search_limits import MAX_NAME_FILTER_CHARS
from troupe.schemas.tools import AgentToolRun, Tool, ToolExecutionResult
from troupe.server.deps import AttachedPageDep, DatabaseDep, ExecutorDep, PageDep, RegistryDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import agents as service
from troupe.services import approvals, attachments, tool_runs
from troupe.store.agents import AgentFilter

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.post("", response_model=AgentState)
async def create_agent(db: DatabaseDep, registry: RegistryDep, body: AgentCreate) -> Response:
    return json_response(await service.create_agent(db, registry, body))


@router.get("", response_model=list[AgentState])
async def list_agents(
    db: DatabaseDep,
    page: PageDep,
    name: str | None = None,
    query_text: Annotated[str | None, Query(max_length=MAX_NAME_FILTER_CHARS)] = None,
    tags: Annotated[list[str] | None, Query()] = None,
    match_all_tags: bool = False,
    include_relationships: Annotated[list[str] | None, Query()] = None,
    include: Annotated[list[str] | None, Query()] = None,
    identity_id: str | None = None,
    identifier_keys: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Agents, newest first unless `order=asc`. `tags` matches any of them, or all with
    `match_all_tags=true`; `query_text` matches part of the name, in any case.
    `identity_id` and `identifier_keys` keep the agents linked to that identity (to one with
    such a key). `include_relationships` (0.1.x) or `include` (1.x) narrow what is loaded
    with each agent (`agent.tools`, `agent.blocks`, `agent.secrets`); by default everything
    is."""
    if include_relationships is not None:
        scope = service.Include(
            tools="tools" in include_relationships,
            blocks="memory" in include_relationships,
            secrets=bool({"secrets", "tool_exec_environment_variables"} & {*include_relationships}),
        )
    elif include is not None:
        scope = service.Include(
            tools="agent.tools" in include,
            blocks="agent.blocks" in include,
            secrets="agent.secrets" in include,
        )
    else:
        scope = service.Include()
    filters = AgentFilter(
        name=name,
        tags=tags or (),
        match_all_tags=match_all_tags,
        name_contains=query_text,
        identity_id=identity_id,
        identifier_keys=identifier_keys or (),
    )
    return json_response(await service.list_agents(db, page, filters, scope))


@router.get("/{agent_id}", response_model=AgentState)
async def retrieve_agent(db: DatabaseDep, agent_id: str) -> Response:
    return json_response(await service.get_agent(db, agent_id))


@router.patch("/{agent_id}", response_model=AgentState)
async def modify_agent(
    db: DatabaseDep,
    registry: RegistryDep,
    executor: ExecutorDep,
    agent_id: str,
    body: AgentUpdate,
) -> Response:
    """`enable_sleeptime` gives the agent a sleep-time agent (or takes it away);
    `message_ids` drops the oldest messages from its context (see docs/api.md)."""
    return json_response(
        await service.update_agent(db, agent_id, body, registry, executor=executor)
    )


@router.delete("/{agent_id}")
async def delete_agent(db: DatabaseDep, agent_id: str) -> dict[str, Any]:
    await service.delete_agent(db, agent_id)
    return {"message": f"agent {agent_id} deleted"}


@router.get("/{agent_id}/core-memory/blocks", response_model=list[Block])
async def list_agent_blocks(db: DatabaseDep, agent_id: str, page: AttachedPageDep) -> Response:
    return json_response(await attachments.list_agent_blocks(db, agent_id, page))


@router.patch("/{agent_id}/core-memory/blocks/attach/{block_id}", response_model=AgentState)
async def attach_block(db: DatabaseDep, agent_id: str, block_id: str) -> Response:
    return json_response(await attachments.attach_block(db, agent_id, block_id))


@router.patch("/{agent_id}/core-memory/blocks/detach/{block_id}", response_model=AgentState)
async def detach_block(db: DatabaseDep, agent_id: str, block_id: str) -> Response:
    return json_response(await attachments.detach_block(db, agent_id, block_id))


@router.get("/{agent_id}/core-memory/blocks/{block_label:path}", response_model=Block)
async def retrieve_agent_block(db: DatabaseDep, agent_id: str, block_label: str) -> Response:
    return json_response(await attachments.get_agent_block(db, agent_id, block_label))


@router.patch("/{agent_id}/core-memory/blocks/{block_label:path}", response_model=Block)
async def modify_agent_block(
    db: DatabaseDep, agent_id: str, block_label: str, body: BlockUpdate
) -> Response:
    return json_response(await attachments.update_agent_block(db, agent_id, block_label, body))


@router.get("/{agent_id}/tools", response_model=list[Tool])
async def list_agent_tools(db: DatabaseDep, agent_id: str, page: AttachedPageDep) -> Response:
    return json_response(await attachments.list_agent_tools(db, agent_id, page))


@router.patch("/{agent_id}/tools/attach/{tool_id}", response_model=AgentState)
async def attach_tool(db: DatabaseDep, agent_id: str, tool_id: str) -> Response:
    return json_response(await attachments.attach_tool(db, agent_id, tool_id))


@router.patch("/{agent_id}/tools/detach/{tool_id}", response_model=AgentState)
async def detach_tool(db: DatabaseDep, agent_id: str, tool_id: str) -> Response:
    return json_response(await attachments.detach_tool(db, agent_id, tool_id))


@router.patch("/{agent_id}/tools/approval/{tool_name}", response_model=AgentState)
async def modify_tool_approval(
    db: DatabaseDep,
    agent_id: str,
    tool_name: str,
    body: ApprovalSwitch | None = None,
    requires_approval: bool | None = None,
) -> Response:
    """Whether calls of the tool wait for a human's approval. 1.12.1 sends the flag in the
    body; older clients as a query parameter."""
    required = body.requires_approval if body is not None else None
    return json_response(
        await approvals.set_requires_approval(
            db, agent_id, tool_name, required if required is not None else requires_approval
        )
    )


@router.post("/{agent_id}/tools/{tool_name}/run", response_model=ToolExecutionResult)
async def run_agent_tool(
    executor: ExecutorDep, agent_id: str, tool_name: str, body: AgentToolRun
) -> Response:
    """Run one of the agent's tools now, outside any turn (its history is not touched)."""
    return json_response(
        await tool_runs.run_agent_tool(executor.rt, agent_id, tool_name, body.args)
    )
