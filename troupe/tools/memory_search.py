"""The two search tools, with Letta's final signatures and answers: `conversation_search`
(the agent's own history, filtered by role and time) and `archival_memory_search` (its
archives, by meaning and keyword, filtered by tags and time). Both still take the MemGPT-era
`page` (and `start`) that stored agents and fine-tunes send, without offering them."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

import json
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import TroupeError
from troupe.schemas.passages import MAX_QUERY_CHARS
from troupe.schemas.search_limits import MAX_SEARCH_QUERY_CHARS
from troupe.store import agents as agent_store
from troupe.store import archives as archive_store
from troupe.store import message_search
from troupe.store.passages import PassageFilter
from troupe.tools import archival_memory as archival
from troupe.tools import search_args as args
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.search_args import SearchArgError

# What older versions of the tools took, accepted still (see BuiltinTool.accepts_also).
LEGACY_PAGING = frozenset({"page", "start"})
# The roles Letta's conversation_search filters by, as troupe stores those messages. Tool
# results are never found (Letta leaves them out too: they would nest searches in searches).
ROLE_TYPES = {"user": "user_message", "assistant": "assistant_message", "tool": None}
ROLES = tuple(ROLE_TYPES)


def conversation_search(
    query: str | None = None,
    roles: list[Literal["assistant", "user", "tool"]] | None = None,
    limit: int | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> str:
    """Search your past conversation history (words of the query, newest first).

    Args:
        query: Words to look for. Leave it out to list messages by the other filters only.
        roles: Only messages of these roles.
        limit: How many messages to return at most (5 if not given).
        start_date: Only messages created on or after this time, in ISO 8601:
            "2024-01-15" (from the start of that day) or "2024-01-15T14:30".
        end_date: Only messages created on or before this time, in ISO 8601:
            "2024-01-20" (to the end of that day) or "2024-01-20T17:00".
    """


def archival_memory_search(
    query: str,
    tags: list[str] | None = None,
    tag_match_mode: Literal["any", "all"] = "any",
    top_k: int | None = None,
    start_datetime: str | None = None,
    end_datetime: str | None = None,
) -> str:
    """Search your archival memory, your long-term store, by meaning (and by keyword).

    Args:
        query: What you are looking for, described in your own words.
        tags: Only memories with these tags (see tag_match_mode).
        tag_match_mode: "any": memories with any of the tags; "all": only those with every one.
        top_k: How many memories to return at most (5 if not given).
        start_datetime: Only memories created at or after this time, in ISO 8601:
            "2024-01-15" or "2024-01-15T14:30".
        end_datetime: Only memories created at or before this time, in ISO 8601
            ("2024-01-20" takes in that whole day).
    """


async def run_conversation_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")
    if len(query) > MAX_SEARCH_QUERY_CHARS:
        return ToolOutcome.error(
            f"`query` is {len(query)} characters, over {MAX_SEARCH_QUERY_CHARS}; "
            "search with a few distinctive words"
        )
    try:
        limit = args.count(arguments.get("limit"), "limit")
        types = _message_types(arguments.get("roles"))
        start = args.time_bound(arguments.get("start_date"), "start_date", end=False)
        end = args.time_bound(arguments.get("end_date"), "end_date", end=True)
    except SearchArgError as exc:
        return ToolOutcome.error(str(exc))
    rows = []
    if types:
        rows = await message_search.search_messages(
            session,
            caller.agent_id,
            query,
            limit=limit,
            offset=args.non_negative(arguments.get("page")) * limit,
            types=types,
            start=start,
            end=end,
        )
    if not rows:
        return _json({"message": "No results found.", "results": []})
    now = datetime.now(UTC)
    found = [
        {
            "timestamp": r.created_at.isoformat(),
            "time_ago": _time_ago(now, r.created_at),
            "role": r.message_type.removesuffix("_message"),
            "content": r.content,
        }
        for r in rows
    ]
    return _json({"message": f"Showing {len(found)} results:", "results": found})


async def run_archival_memory_search(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    query = str(arguments.get("query") or "")[:MAX_QUERY_CHARS]
    try:
        top_k = args.count(arguments.get("top_k"), "top_k")
        match = args.choice(
            arguments.get("tag_match_mode"), "tag_match_mode", ("any", "all"), "any"
        )
        start = args.time_bound(arguments.get("start_datetime"), "start_datetime", end=False)
        end = args.time_bound(arguments.get("end_datetime"), "end_datetime", end=True)
    except SearchArgError as exc:
        return ToolOutcome.error(str(exc))
    skip = args.skipped(arguments.get("page"), arguments.get("start"), top_k)
    agent = await agent_store.get_agent_row(session, caller.agent_id)
    archives = await archive_store.archives_of_agent(session, agent.id)
    where = PassageFilter(
        [a.id for a in archives],
        tags=args.tags(arguments.get("tags")),
        match_all_tags=match == "all",
        start=start,
        end=end,
    )
    try:
        embedder, handle = archival.embedder_for(archival.config_of(agent))
        (vector,) = await archival.embed(embedder, [query]) if query.strip() else [None]
    except TroupeError as exc:
        return ToolOutcome.error(exc.message)
    found = await archival.search(
        session, where, query, skip + top_k, query_vector=vector, handle=handle
    )
    shown = [
        {
            "id": f.passage.id,
            "timestamp": f.passage.created_at.isoformat(),
            "content": f.passage.text,
            "tags": list(f.passage.tags or []),
        }
        for f in found[skip:]
    ]
    return _json(shown)


def _message_types(roles: Any) -> list[str]:
    """The stored message types of the roles asked for; all searchable ones when none."""
    if roles is None or roles == []:
        return list(message_search.SEARCHED_TYPES)
    if not isinstance(roles, list) or any(r not in ROLE_TYPES for r in roles):
        raise SearchArgError(f"`roles` must be a list of {', '.join(ROLES)}, not {roles!r}")
    return [t for r in dict.fromkeys(roles) if (t := ROLE_TYPES[r]) is not None]


def _time_ago(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _json(value: Any) -> ToolOutcome:
    return ToolOutcome.ok(json.dumps(value, ensure_ascii=False))
