"""/v1/agents/{id}/archival-memory: an agent's long-term passages (both SDK lines)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Response

from troupe.schemas.passages import (
    MAX_QUERY_CHARS,
    MAX_TOP_K,
    ArchivalSearchResponse,
    Passage,
    PassageCreate,
    PassageUpdate,
    TagMatch,
)
from troupe.server.deps import MAX_PAGE, DatabaseDep
from troupe.server.responses import json_response
from troupe.server.routing import APIRouter
from troupe.services import archival as service
from troupe.store.paging import Page

router = APIRouter(prefix="/v1/agents/{agent_id}/archival-memory", tags=["archival memory"])


@router.post("", response_model=list[Passage])
async def insert_passage(db: DatabaseDep, agent_id: str, body: PassageCreate) -> Response:
    """Embed the text with the agent's embedding and store it in its archival memory."""
    return json_response(await service.insert(db, agent_id, body))


@router.get("", response_model=list[Passage])
async def list_passages(
    db: DatabaseDep,
    agent_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: str | None = None,
    before: str | None = None,
    ascending: bool = True,
    search: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
) -> Response:
    """Oldest first unless `ascending=false`; `search`: only passages containing its words."""
    page = Page(limit=limit, after=after, before=before, order="asc" if ascending else "desc")
    return json_response(await service.list_passages(db, agent_id, page, search))


@router.get("/search", response_model=ArchivalSearchResponse)
async def search_passages(
    db: DatabaseDep,
    agent_id: str,
    query: Annotated[str, Query(max_length=MAX_QUERY_CHARS)],
    tags: Annotated[list[str] | None, Query()] = None,
    tag_match_mode: TagMatch = "any",
    start_datetime: datetime | None = None,
    end_datetime: datetime | None = None,
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K)] = 10,
) -> Response:
    """By meaning (the agent's embedding) and keyword, fused; filtered by tags and dates."""
    found = await service.search(
        db,
        agent_id,
        query,
        tags=tags,
        tag_match_mode=tag_match_mode,
        start=start_datetime,
        end=end_datetime,
        top_k=top_k,
    )
    return json_response(found)


@router.patch("/{passage_id}", response_model=list[Passage])
async def modify_passage(
    db: DatabaseDep, agent_id: str, passage_id: str, body: PassageUpdate
) -> Response:
    return json_response(await service.update(db, agent_id, passage_id, body))


@router.delete("/{passage_id}")
async def delete_passage(db: DatabaseDep, agent_id: str, passage_id: str) -> dict[str, Any]:
    await service.delete(db, agent_id, passage_id)
    return {"message": f"passage {passage_id} deleted"}
