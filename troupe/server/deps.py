"""Request dependencies: the database, auth, and the paging parameters every list shares.

All of them are `async def` although none awaits: FastAPI runs a plain `def` dependency in
its thread pool, which costs two thread switches per dependency on every request."""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from troupe.errors import Unauthorized
from troupe.messaging.scheduler import Scheduler
from troupe.runs.executor import RunExecutor
from troupe.store import Database
from troupe.store.paging import Order, Page
from troupe.tools.mcp.pool import McpPool
from troupe.tools.registry import ToolRegistry
from troupe.tools.tokens import tool_token_secret, verify_tool_token

MAX_PAGE = 10_000


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.services.db
    return db


DatabaseDep = Annotated[Database, Depends(get_db)]


def executor_of(request: Request) -> RunExecutor:
    """The executor, for a route that takes the `Request` itself: FastAPI passes that without
    solving a dependency (what `ExecutorDep` costs on each request of the hottest route)."""
    executor: RunExecutor = request.app.state.services.executor
    return executor


async def get_executor(request: Request) -> RunExecutor:
    return executor_of(request)


ExecutorDep = Annotated[RunExecutor, Depends(get_executor)]


async def get_registry(request: Request) -> ToolRegistry:
    registry: ToolRegistry = request.app.state.services.registry
    return registry


RegistryDep = Annotated[ToolRegistry, Depends(get_registry)]


async def get_scheduler(request: Request) -> Scheduler:
    scheduler: Scheduler = request.app.state.services.scheduler
    return scheduler


SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]


async def get_mcp_pool(request: Request) -> McpPool:
    pool: McpPool = request.app.state.services.mcp
    return pool


McpPoolDep = Annotated[McpPool, Depends(get_mcp_pool)]


async def require_api_key(request: Request) -> None:
    """With an API key configured, every /v1 request needs it, or a tool token (see
    troupe.tools.tokens) of a user tool calling back on behalf of its agent."""
    settings = request.app.state.settings
    if not settings.api_key:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        # Bytes: compare_digest refuses non-ASCII str, and a header may carry any byte.
        if secrets.compare_digest(token.encode(), settings.api_key.encode()):
            return
        agent_id = verify_tool_token(tool_token_secret(settings), token)
        if agent_id is not None:
            request.state.tool_agent_id = agent_id  # the agent this call is made for
            return
    raise Unauthorized(
        "this troupe server needs an API key: send `Authorization: Bearer <TROUPE_API_KEY>`"
        + ("; the key sent is not it" if scheme.lower() == "bearer" and token else "")
    )


async def page_params(
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


def ordered_page_params(default_limit: int, default_order: Order) -> Callable[..., Awaitable[Page]]:
    """Paging for a list read in `default_order` unless another `order` is asked for."""

    async def params(
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = default_limit,
        after: str | None = None,
        before: str | None = None,
        order: Order | None = None,
    ) -> Page:
        return Page(limit=limit, after=after, before=before, order=order or default_order)

    return params


def oldest_first_page_params(default_limit: int) -> Callable[..., Awaitable[Page]]:
    """Paging for lists read oldest (or first) first unless `order=desc` is asked for."""
    return ordered_page_params(default_limit, "asc")


message_page_params = oldest_first_page_params(100)


async def history_page_params(
    page: Annotated[Page, Depends(message_page_params)], order: Order | None = None
) -> Page:
    """An agent's history: with no `order` (and no `after` to page on from), the newest
    `limit` messages, oldest first, as Letta's clients expect."""
    return replace(page, from_end=True) if order is None and page.after is None else page


PageDep = Annotated[Page, Depends(page_params)]


async def job_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: str | None = None,
    before: str | None = None,
    order: Literal["asc", "desc"] | None = None,
    ascending: bool | None = None,
    source_id: str | None = None,
) -> Page:
    """/v1/jobs: runs newest first; a folder's upload jobs (`source_id`) oldest first, as the
    Letta servers 0.1.x spoke to listed them (`ascending` defaulted to true there)."""
    if order is None and ascending is None:
        order = "asc" if source_id is not None else "desc"
    return await page_params(limit, after, before, order, ascending)


JobPageDep = Annotated[Page, Depends(job_page_params)]
# A history list narrowed to these Letta message types (the 1.x SDK's
# `include_return_message_types`); None: every type.
ReturnMessageTypes = Annotated[list[str] | None, Query(alias="include_return_message_types")]
MessagePageDep = Annotated[Page, Depends(message_page_params)]
HistoryPageDep = Annotated[Page, Depends(history_page_params)]
# What is attached to one agent (in attachment order), and tags (alphabetical): everything
# by default.
AttachedPageDep = Annotated[Page, Depends(oldest_first_page_params(1000))]


async def agent_files_page_params(page: AttachedPageDep, cursor: str | None = None) -> Page:
    """An agent's files: 1.x also sends `cursor` (deprecated there), the `next_cursor` of the
    page before, which is an `after`."""
    return replace(page, after=page.after or cursor)


AgentFilesPageDep = Annotated[Page, Depends(agent_files_page_params)]
TagPageDep = Annotated[Page, Depends(oldest_first_page_params(1000))]
# A folder's files, as Letta listed them (up to 1,000 a page): 1.x's folders route newest
# first unless `order=asc`; 0.1.x's sources route oldest first (it had no `order`), so a
# 0.1.x script paging on with `after=<last id>` walks the files in the order Letta gave.
FolderFilesPageDep = Annotated[Page, Depends(ordered_page_params(1000, "desc"))]
SourceFilesPageDep = Annotated[Page, Depends(ordered_page_params(1000, "asc"))]
SchedulePageDep = Annotated[Page, Depends(oldest_first_page_params(50))]


async def conversation_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: str | None = None,
    before: str | None = None,
    order: Order | None = None,
) -> Page:
    """A conversation's history: newest first unless `order=asc`, as Letta lists it."""
    return Page(limit=limit, after=after, before=before, order=order or "desc")


ConversationPageDep = Annotated[Page, Depends(conversation_page_params)]
