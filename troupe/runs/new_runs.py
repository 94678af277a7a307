"""Rows of new runs, not yet stored: where each comes from (trace, parent, callback,
conversation) and whether it waits for a worker."""

from dataclasses import replace
from typing import Any, TypedDict, Unpack

from troupe.ids import new_id
from troupe.runs.request import RunRequest
from troupe.store.inserts import new_row
from troupe.store.tables import RunRow, utcnow


class RunOrigin(TypedDict, total=False):
    """Where a run comes from and who hears of its end (all optional)."""

    trace_id: str | None  # the trace it joins (a new one if absent)
    parent_run_id: str | None  # the run that started it
    callback_url: str | None  # POSTed to when it ends
    # The span that caused it (W3C `traceparent`), unless its request names one already.
    traceparent: str | None
    tracestate: str | None  # that span's W3C `tracestate`, when it has one
    conversation_id: str | None  # the conversation it runs in (None: the default history)


def new_runs(
    requests: list[tuple[str, RunRequest]], *, background: bool, **origin: Unpack[RunOrigin]
) -> list[RunRow]:
    """Rows for runs of several agents (agent id, request), not yet stored. A background run
    waits as "created" for a worker to claim it."""
    now = utcnow()
    cause = (origin.get("traceparent"), origin.get("tracestate"))
    stored: dict[int, dict[str, Any]] = {}  # by request: a broadcast's runs share one

    def stored_request(request: RunRequest) -> dict[str, Any]:
        found = stored.get(id(request))
        if found is None:
            found = stored[id(request)] = _as_run(request, background, cause).to_json()
        return found

    return [
        new_row(
            RunRow,
            {
                "id": new_id("run"),
                "agent_id": agent_id,
                "status": "created" if background else "running",
                "request": stored_request(request),
                "usage": {},
                "trace_id": origin.get("trace_id") or new_id("trace"),
                "parent_run_id": origin.get("parent_run_id"),
                "callback_url": origin.get("callback_url"),
                "conversation_id": origin.get("conversation_id"),
                "created_at": now,
                "started_at": None if background else now,
                "heartbeat_at": None if background else now,
            },
        )
        for agent_id, request in requests
    ]


def _as_run(
    request: RunRequest, background: bool, cause: tuple[str | None, str | None]
) -> RunRequest:
    """The request as its run records it: background or not, under its cause's span (the
    request's own, when it names one; `cause` is `traceparent` and `tracestate`)."""
    if request.traceparent is not None:
        cause = (request.traceparent, request.tracestate)
    if request.background == background and (request.traceparent, request.tracestate) == cause:
        return request
    return replace(request, background=background, traceparent=cause[0], tracestate=cause[1])
