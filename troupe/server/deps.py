"""Request dependencies: the database, auth, and the paging parameters every list shares."""

import secrets
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from troupe.errors import Unauthorized
from troupe.store import Database
from troupe.store.paging import Page

MAX_PAGE = 10_000


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DatabaseDep = Annotated[Database, Depends(get_db)]


def require_api_key(request: Request) -> None:
    expected: str | None = request.app.state.settings.api_key
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), expected):
        raise Unauthorized(
            "this troupe server needs an API key: send `Authorization: Bearer <TROUPE_API_KEY>`"
        )


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: str | None = None,
    before: str | None = None,
    order: Literal["asc", "desc"] | None = None,
    ascending: bool | None = None,
) -> Page:
    """Letta's cursor paging; `ascending` is the 0.1.x spelling of `order`."""
    if order is None:
        order = "asc" if ascending else "desc"
    return Page(limit=limit, after=after, before=before, order=order)


def attached_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    after: str | None = None,
    before: str | None = None,
) -> Page:
    """Paging over what is attached to one agent (attachment order, everything by default)."""
    return Page(limit=limit, after=after, before=before, order="asc")


PageDep = Annotated[Page, Depends(page_params)]
AttachedPageDep = Annotated[Page, Depends(attached_page_params)]
