"""/v1/tags: every tag in use."""

from typing import Annotated

from fastapi import Query

from troupe.schemas.search_limits import MAX_NAME_FILTER_CHARS
from troupe.server.deps import DatabaseDep, TagPageDep
from troupe.server.routing import APIRouter
from troupe.services import tags as service

router = APIRouter(prefix="/v1/tags", tags=["tags"])


@router.get("", response_model=list[str])
async def list_tags(
    db: DatabaseDep,
    page: TagPageDep,
    query_text: Annotated[str | None, Query(max_length=MAX_NAME_FILTER_CHARS)] = None,
) -> list[str]:
    """Tags in alphabetical order; `after` / `before` are tags, paging like every list."""
    return await service.list_tags(db, page, query_text=query_text)
