"""Letta's file tools, each one record of the registry: `open_files` (puts files in the
agent's context), `grep_files` (regular expressions over the attached files' lines) and
`semantic_search_files` (the passages nearest a query). Attaching a folder gives an agent
these tools; detaching its last folder takes them away."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

import dataclasses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.store import agent_files as view_store
from troupe.store import agents as agent_store
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.files.grep import grep_text
from troupe.tools.files.opening import Budget, open_file
from troupe.tools.files.search import PassageSearch
from troupe.tools.files.view import file_budget
from troupe.tools.registry import BuiltinTool, declare

FILE_TOOL_NAMES = ("open_files", "grep_files", "semantic_search_files")


def open_files(file_requests: list[dict], close_all_others: bool = False) -> str:
    """Open one or more files and load their contents into files section in core memory. Maximum of 5 files can be opened simultaneously.

    Use this when you want to inspect or reference file contents, view part of a large file,
    or replace the open files with a new set (close_all_others=true). Files are named
    `folder_name/file_name`, as the files section of your context lists them.

    Args:
        file_requests: Files to open, each {"file_name": ..., "offset": first line (from 1, optional), "length": number of lines (optional)}.
        close_all_others: If true, close every other open file first.
    """  # noqa: E501


def grep_files(
    pattern: str,
    include: str | None = None,
    context_lines: int | None = 1,
    offset: int | None = None,
) -> str:
    """Searches file contents for pattern matches with surrounding context.

    Results are paginated: 20 matches per call, with a summary of the total and the files
    that hold them, and the offset to use for the next page.

    Args:
        pattern: Keyword or regex pattern to search within file contents.
        include: Optional keyword or regex pattern to filter filenames to include in the search.
        context_lines: Number of lines of context to show before and after each match. Defaults to 1.
        offset: Number of matches to skip before showing results (20 for the second page).
    """  # noqa: E501


def semantic_search_files(query: str, limit: int = 5) -> str:
    """Searches file contents using semantic meaning rather than exact matches.

    Ideal for finding conceptually related information across files, without knowing the
    exact keywords.

    Args:
        query: The search query text to find semantically similar content.
        limit: Maximum number of results to return (default: 5)
    """


_FILE_REQUEST = {
    "type": "object",
    "properties": {
        "file_name": {"type": "string", "description": "Name of the file to open."},
        "offset": {"type": "integer", "description": "First line to show, counting from 1."},
        "length": {"type": "integer", "description": "Number of lines to show."},
    },
    "required": ["file_name"],
}


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"`{name}` must be a whole number")
    return value


async def _open_files(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    requests = arguments.get("file_requests")
    if not isinstance(requests, list) or not requests:
        return ToolOutcome.error("No file requests provided")
    if not all(isinstance(r, dict) and isinstance(r.get("file_name"), str) for r in requests):
        return ToolOutcome.error("each file request is an object with a `file_name`")
    agent = await agent_store.get_agent_row(session, caller.agent_id)
    budget = Budget(*file_budget(agent.llm_config.get("context_window")))
    if len(requests) > budget.max_open:
        return ToolOutcome.error(
            f"Cannot open {len(requests)} files: exceeds maximum limit of {budget.max_open} files"
        )
    seen = await view_store.seen_files(session, caller.agent_id)
    by_name = {s.full_name: s for s in seen}
    names = [str(r["file_name"]) for r in requests]
    missing = [n for n in names if n not in by_name]
    if missing:
        return ToolOutcome.error(
            f"{missing[0]} not attached - did you get the filename correct? Currently you "
            f"have the following files attached: {sorted(by_name)}"
        )
    closed_others: list[str] = []
    if arguments.get("close_all_others"):
        closing = [s for s in seen if s.view.is_open and s.full_name not in names]
        await view_store.close_views(session, [s.view for s in closing])
        closed_others = [s.full_name for s in closing]
    evicted: list[str] = []
    try:
        for request in requests:
            lines = (
                _optional_int(request.get("offset"), "offset"),
                _optional_int(request.get("length"), "length"),
            )
            evicted += await open_file(session, seen, by_name[request["file_name"]], budget, lines)
    except InvalidInput as error:
        return ToolOutcome.error(error.message)
    return ToolOutcome.ok(_opened_message(requests, closed_others, evicted))


def _range(request: dict[str, Any]) -> tuple[int | None, int | None]:
    offset, length = request.get("offset"), request.get("length")
    if offset is None and length is None:
        return None, None
    start = offset or 1
    return start, (start + length - 1 if length is not None else None)


def _opened_message(requests: list[dict[str, Any]], closed: list[str], evicted: list[str]) -> str:
    if len(requests) == 1:
        name = requests[0]["file_name"]
        start, end = _range(requests[0])
        if start is None:
            what = "entire file is"
        else:
            what = f"lines {start} to {end if end is not None else 'end'} are"
        message = f"Successfully opened file {name}, {what} now visible in memory block <{name}>"
    else:
        parts = []
        for request in requests:
            start, end = _range(request)
            span = "" if start is None else f" (lines {start}-{end if end is not None else 'end'})"
            parts.append(f"{request['file_name']}{span}")
        message = f"Successfully opened {len(requests)} files: {', '.join(parts)}"
    if closed:
        message += (
            f"\nNote: Closed {len(closed)} file(s) due to close_all_others=True: "
            + ", ".join(closed)
        )
    if evicted:
        message += (
            f"\nNote: Closed {len(evicted)} least recently used file(s) due to open file "
            "limit: " + ", ".join(evicted)
        )
    return message


async def _grep_files(
    session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
) -> ToolOutcome:
    seen = await view_store.seen_files(session, caller.agent_id)
    contents = await view_store.contents_of(session, [s.view.file_id for s in seen])
    files = [(s.full_name, contents.get(s.view.file_id, "")) for s in seen]
    try:
        context = _optional_int(arguments.get("context_lines"), "context_lines")
        offset = _optional_int(arguments.get("offset"), "offset")
        text = grep_text(
            files,
            str(arguments.get("pattern") or ""),
            include=arguments.get("include") or None,
            context_lines=1 if context is None else max(0, min(context, 20)),
            offset=max(0, offset or 0),
        )
    except InvalidInput as error:
        return ToolOutcome.error(error.message)
    return ToolOutcome.ok(text)


def file_tools(search: PassageSearch) -> list[BuiltinTool]:
    """The three file tools; `search` finds the passages nearest a query."""

    async def _semantic_search_files(
        session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
    ) -> ToolOutcome:
        query = str(arguments.get("query") or "").strip()
        if not query:
            return ToolOutcome.error("Empty search query provided")
        try:
            limit = _optional_int(arguments.get("limit"), "limit") or 5
        except InvalidInput as error:
            return ToolOutcome.error(error.message)
        return ToolOutcome.ok(
            await search.formatted(session, caller.agent_id, query, max(1, min(limit, 50)))
        )

    opener = declare(open_files, "letta_files_core", run_in_step=_open_files)
    parameters = opener.json_schema["parameters"]
    requests = {**parameters["properties"]["file_requests"], "items": _FILE_REQUEST}
    schema = {
        **opener.json_schema,
        "parameters": {
            **parameters,
            "properties": {**parameters["properties"], "file_requests": requests},
        },
    }
    return [
        dataclasses.replace(opener, json_schema=schema),
        declare(grep_files, "letta_files_core", run_reading=_grep_files),
        declare(semantic_search_files, "letta_files_core", run_reading=_semantic_search_files),
    ]
