"""/v1/tags: every tag in use."""

from typing import Annotated

from fastapi import APIRouter, Query

from troupe.server.deps import DatabaseDep
from troupe.services import tags as service

router = APIRouter(prefix="/v1/tags", tags=["tags"])


@router.get("", response_model=list[str])
async def list_tags(
    db: DatabaseDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    query_text: str | None = None,
) -> list[str]:
    """Tags in alphabetical order; `after` is the last tag of the previous page."""
    return await service.list_tags(db, after=after, limit=limit, query_text=query_text)
