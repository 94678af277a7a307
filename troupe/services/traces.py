"""Traces: the runs, messages and deliveries one request caused, as a tree and a diagram."""

from dataclasses import dataclass
from datetime import datetime

from troupe.errors import NotFound
from troupe.runs.request import RunRequest
from troupe.schemas.cross_agent import sent_text
from troupe.schemas.traces import Trace, TraceAgent, TraceRun, TraceSummary
from troupe.services.views import message_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import runs as run_store
from troupe.store import traces as trace_store
from troupe.store.tables import DeliveryRow, MessageRow, RunRow

LABEL_CHARS = 60


async def get_trace(db: Database, trace_id: str) -> Trace:
    async with db.read() as session:
        runs = await run_store.runs_of_traces(session, [trace_id])
        if not runs:
            raise NotFound(f"trace {trace_id!r} not found")
        messages = await trace_store.messages_of_runs(session, [r.id for r in runs])
        deliveries = await trace_store.deliveries_of_trace(session, trace_id)
        agent_ids = {r.agent_id for r in runs} | {
            m.sender_agent_id for m in messages if m.sender_agent_id
        }
        names = await agent_store.names_of_agents(session, list(agent_ids))
    return _assemble(trace_id, runs, messages, deliveries, names)


async def list_traces(db: Database, *, limit: int, agent_id: str | None) -> list[TraceSummary]:
    """The most recent traces, newest first, each summed up from its runs."""
    async with db.read() as session:
        trace_ids = await run_store.recent_trace_ids(session, limit=limit, agent_id=agent_id)
        runs = await run_store.runs_of_traces(session, trace_ids) if trace_ids else []
        names = await agent_store.names_of_agents(session, list({r.agent_id for r in runs}))
    by_trace: dict[str, list[RunRow]] = {}
    for run in runs:
        by_trace.setdefault(run.trace_id or "", []).append(run)
    return [_summary(t, by_trace[t], names) for t in trace_ids if t in by_trace]


def _summary(trace_id: str, runs: list[RunRow], names: dict[str, str]) -> TraceSummary:
    root = next((r for r in runs if r.parent_run_id is None), runs[0])
    statuses = {r.status for r in runs}
    unfinished = bool(statuses & {"created", "running"})
    status = "failed" if "failed" in statuses else "running" if unfinished else root.status
    started = min(r.created_at for r in runs)
    ends = [r.completed_at for r in runs]
    completed = None if unfinished or None in ends else max(e for e in ends if e is not None)
    agents = list(dict.fromkeys(r.agent_id for r in runs))
    return TraceSummary(
        trace_id=trace_id,
        root_agent_id=root.agent_id,
        root_agent_name=names.get(root.agent_id, root.agent_id),
        agents=[TraceAgent(id=a, name=names.get(a, a)) for a in agents],
        run_count=len(runs),
        status=status,
        started_at=started,
        completed_at=completed,
        duration_ms=int((completed - started).total_seconds() * 1000) if completed else None,
    )


def _kind(run: RunRow) -> str:
    if RunRequest.from_json(run.request).delivery_id:
        return "delivery"
    return "call" if run.parent_run_id else "request"


def _assemble(
    trace_id: str,
    runs: list[RunRow],
    messages: list[MessageRow],
    deliveries: list[DeliveryRow],
    names: dict[str, str],
) -> Trace:
    by_run: dict[str, list[MessageRow]] = {}
    for message in messages:
        by_run.setdefault(message.run_id or "", []).append(message)
    nodes = {
        run.id: TraceRun(
            id=run.id,
            agent_id=run.agent_id,
            agent_name=names.get(run.agent_id, run.agent_id),
            parent_run_id=run.parent_run_id,
            kind=_kind(run),
            status=run.status,
            stop_reason=run.stop_reason,
            error=run.error,
            created_at=run.created_at,
            started_at=run.started_at,
            completed_at=run.completed_at,
            duration_ms=(
                int((run.completed_at - run.started_at).total_seconds() * 1000)
                if run.started_at and run.completed_at
                else None
            ),
            usage=run.usage or {},
            messages=[message_view(m) for m in by_run.get(run.id, [])],
        )
        for run in runs
    }
    roots: list[TraceRun] = []
    for run in runs:
        parent = nodes.get(run.parent_run_id or "")
        (parent.children if parent else roots).append(nodes[run.id])
    agents = list(dict.fromkeys(r.agent_id for r in runs))
    return Trace(
        trace_id=trace_id,
        agents=[TraceAgent(id=a, name=names.get(a, a)) for a in agents],
        runs=roots,
        deliveries=[
            {
                "id": d.id,
                "from": d.sender_agent_id,
                "to": d.target_agent_id,
                "status": d.status,
                "attempts": d.attempts,
                "run_id": d.result_run_id,
                "created_at": d.created_at.isoformat(),
                "completed_at": d.completed_at.isoformat() if d.completed_at else None,
            }
            for d in deliveries
        ],
        mermaid=sequence_diagram(runs, messages, names),
    )


@dataclass(frozen=True)
class _Event:
    at: datetime
    line: str


def sequence_diagram(runs: list[RunRow], messages: list[MessageRow], names: dict[str, str]) -> str:
    """Who said what to whom, in time order: requests from the user, cross-agent messages
    (async ones with an open arrow), replies (dashed)."""
    run_of = {r.id: r for r in runs}
    order = list(dict.fromkeys(r.agent_id for r in runs))
    alias = {agent: f"a{i + 1}" for i, agent in enumerate(order)}
    lines = ["sequenceDiagram", "    participant user as user"]
    lines += [f"    participant {alias[a]} as {_label(names.get(a, a))}" for a in order]
    events: list[_Event] = []
    for message in messages:
        run = run_of.get(message.run_id or "")
        if run is None:
            continue
        me = alias[run.agent_id]
        parent = run_of.get(run.parent_run_id or "")
        caller = alias.get(parent.agent_id) if parent else None
        content = message.content or ""
        text = _label(sent_text(content) if message.sender_agent_id else content)
        kind = _kind(run)
        if message.message_type in {"user_message", "system_message"}:
            sender = alias.get(message.sender_agent_id or "", caller or "user")
            if message.sender_agent_id:
                text = _label(sent_text(message.content or ""))
            arrow = "-)" if kind == "delivery" else "->>"
            events.append(_Event(message.created_at, f"    {sender}{arrow}{me}: {text}"))
        elif message.message_type == "assistant_message":
            if kind == "request":
                events.append(_Event(message.created_at, f"    {me}-->>user: {text}"))
            elif kind == "call" and caller:
                events.append(_Event(message.created_at, f"    {me}-->>{caller}: {text}"))
            else:
                events.append(_Event(message.created_at, f"    Note over {me}: {text}"))
    events.sort(key=lambda e: e.at)
    return "\n".join(lines + [e.line for e in events]) + "\n"


def _label(text: str) -> str:
    """Mermaid message text: one line, no characters that end a statement."""
    flat = " ".join(text.split()).replace(";", ",").replace("#", "")
    return flat if len(flat) <= LABEL_CHARS else flat[: LABEL_CHARS - 1] + "…"
