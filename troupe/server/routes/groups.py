"""/v1/groups: Letta's multi-agent groups (letta-client 0.1.x `client.groups`, and the later
routes of Letta's server), and /v1/agents/{id}/groups."""

from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import StreamingResponse

from troupe.schemas.groups import Group, GroupCreate, GroupUpdate, ManagerTypeName
from troupe.schemas.messages import LettaMessage, LettaResponse, MessageRequest
from troupe.server.deps import DatabaseDep, ExecutorDep, HistoryPageDep, PageDep
from troupe.server.responses import TRACE_HEADER, json_response
from troupe.server.routing import APIRouter
from troupe.server.sse import SSE_HEADERS, event_stream
from troupe.services import group_messages
from troupe.services import groups as service

router = APIRouter(tags=["groups"])


@router.get("/v1/groups", response_model=list[Group])
async def list_groups(
    db: DatabaseDep,
    page: PageDep,
    manager_type: ManagerTypeName | None = None,
    project_id: str | None = None,
    show_hidden_groups: bool = False,
) -> list[Group]:
    """Oldest first unless `order=desc`."""
    return await service.list_groups(
        db,
        page,
        manager_type=manager_type,
        project_id=project_id,
        show_hidden=show_hidden_groups,
    )


@router.get("/v1/groups/count", response_model=int)
async def count_groups(db: DatabaseDep) -> int:
    return await service.count_groups(db)


@router.post("/v1/groups", response_model=Group)
async def create_group(db: DatabaseDep, body: GroupCreate) -> Group:
    return await service.create_group(db, body)


@router.put("/v1/groups", response_model=Group)
async def upsert_group(db: DatabaseDep, body: GroupCreate) -> Group:
    return await service.upsert_group(db, body)


@router.get("/v1/groups/{group_id}", response_model=Group)
async def retrieve_group(db: DatabaseDep, group_id: str) -> Group:
    return await service.get_group(db, group_id)


@router.patch("/v1/groups/{group_id}", response_model=Group)
async def modify_group(db: DatabaseDep, group_id: str, body: GroupUpdate) -> Group:
    return await service.update_group(db, group_id, body)


@router.delete("/v1/groups/{group_id}")
async def delete_group(db: DatabaseDep, group_id: str) -> dict[str, str]:
    await service.delete_group(db, group_id)
    return {"message": f"Group id={group_id} successfully deleted"}


@router.patch("/v1/groups/{group_id}/blocks/attach/{block_id}")
async def attach_block(db: DatabaseDep, group_id: str, block_id: str) -> None:
    """The block is attached to the group and to all its agents."""
    await service.attach_block(db, group_id, block_id)


@router.patch("/v1/groups/{group_id}/blocks/detach/{block_id}")
async def detach_block(db: DatabaseDep, group_id: str, block_id: str) -> None:
    """The block is detached from the group and from all its agents."""
    await service.detach_block(db, group_id, block_id)


@router.get("/v1/agents/{agent_id}/groups", response_model=list[Group])
async def list_agent_groups(
    db: DatabaseDep,
    agent_id: str,
    manager_type: Annotated[ManagerTypeName | None, Query()] = None,
) -> list[Group]:
    """The groups the agent is in, as a member or as their manager."""
    return await service.groups_of_agent(db, agent_id, manager_type)


@router.post("/v1/groups/{group_id}/messages", response_model=LettaResponse)
async def send_group_message(
    executor: ExecutorDep, group_id: str, body: MessageRequest
) -> Response:
    """Run the group's turn (every speaker's run, in one trace) and answer with all that
    the speakers produced, in order (SSE instead with `streaming: true`). 0.1.x sends an
    `agent_id` query parameter, which is not needed."""
    if body.streaming:
        return await stream_group_message(executor, group_id, body)
    result = await group_messages.send(executor, group_id, body)
    response = json_response(result)
    response.headers[TRACE_HEADER] = result.trace_id or ""
    return response


@router.post("/v1/groups/{group_id}/messages/stream", response_class=StreamingResponse)
async def stream_group_message(
    executor: ExecutorDep, group_id: str, body: MessageRequest
) -> StreamingResponse:
    """Server-sent events: each speaker's messages as its steps complete, then the stop
    reason and usage of the whole group turn; the trace id as `X-Troupe-Trace-Id`."""
    trace_id, events = await group_messages.stream(executor, group_id, body)
    headers = {**SSE_HEADERS, TRACE_HEADER: trace_id}
    return StreamingResponse(event_stream(events), media_type="text/event-stream", headers=headers)


@router.get("/v1/groups/{group_id}/messages", response_model=list[LettaMessage])
async def list_group_messages(db: DatabaseDep, group_id: str, page: HistoryPageDep) -> Response:
    """What the group's turns said, every member's. Without `order`: the newest `limit`
    messages, oldest first."""
    return json_response(await group_messages.list_messages(db, group_id, page))


@router.patch("/v1/groups/{group_id}/reset-messages")
async def reset_group_messages(db: DatabaseDep, group_id: str) -> None:
    """Delete the group's messages from every member's history."""
    await group_messages.reset_messages(db, group_id)
