"""The log of a cookbook run, from what the server recorded: the team's configuration, the
shared memory before and after, every agent's messages in time order (cross-agent ones as
sender → receiver), and each request's trace as a Mermaid sequence diagram.

It works on plain JSON (dicts), as the API returns it, so the SDK scripts (any letta-client
line: `message.model_dump(mode="json")`) and `troupe demo` (plain HTTP) share it."""

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from troupe.schemas.cross_agent import sent_text

TEXT_CHARS = 400
USER = "user"


@dataclass
class Exchange:
    """One message to the supervisor and everything it caused."""

    message: str
    seconds: float
    replies: list[str]
    trace: dict[str, Any] | None
    messages: list[dict[str, Any]] = field(default_factory=list)  # every agent's, this trace


@dataclass(frozen=True)
class Line:
    at: datetime
    agent: str
    message_type: str
    route: str  # "sender → receiver", or the agent alone
    text: str


def run_map(trace: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """run id -> {agent_id, kind, parent_agent_id} for every run of a trace."""
    found: dict[str, dict[str, Any]] = {}

    def walk(runs: Iterable[dict[str, Any]], parent_agent: str | None) -> None:
        for run in runs:
            found[run["id"]] = {
                "agent_id": run["agent_id"],
                "kind": run.get("kind"),
                "parent_agent_id": parent_agent,
            }
            walk(run.get("children") or [], run["agent_id"])

    walk((trace or {}).get("runs") or [], None)
    return found


def trace_run_ids(trace: dict[str, Any] | None) -> set[str]:
    return set(run_map(trace))


def activity(exchange: Exchange, names: dict[str, str]) -> list[Line]:
    """The exchange's messages as log lines, in time order."""
    runs = run_map(exchange.trace)
    lines = []
    for message in exchange.messages:
        run = runs.get(message.get("run_id") or "", {})
        me = names.get(run.get("agent_id", ""), message.get("name") or "?")
        lines.append(
            Line(
                at=_date(message["date"]),
                agent=me,
                message_type=message["message_type"],
                route=_route(message, run, me, names),
                text=_text(message),
            )
        )
    return sorted(lines, key=lambda line: line.at)


def _route(message: dict[str, Any], run: dict[str, Any], me: str, names: dict[str, str]) -> str:
    kind = message["message_type"]
    if kind == "user_message":
        return f"{USER} → {me}"
    if kind == "system_message" and message.get("sender_id"):
        return f"{names.get(message['sender_id'], message['sender_id'])} → {me}"
    if kind == "assistant_message":
        if run.get("kind") == "request":
            return f"{me} → {USER}"
        if run.get("parent_agent_id"):
            return f"{me} → {names.get(run['parent_agent_id'], run['parent_agent_id'])}"
    return me


def _text(message: dict[str, Any]) -> str:
    kind = message["message_type"]
    if kind == "tool_call_message":
        call = message.get("tool_call") or {}
        return f"{call.get('name')}({_arguments(call.get('arguments'))})"
    if kind == "tool_return_message":
        return f"[{message.get('status')}] {_flat(message.get('tool_return'))}"
    if kind == "reasoning_message":
        return _flat(message.get("reasoning"))
    if kind == "system_message" and message.get("sender_id"):  # the route names the sender
        return _flat(sent_text(str(message.get("content") or "")))
    return _flat(message.get("content"))


def _arguments(raw: Any) -> str:
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return _flat(raw)
    if not isinstance(parsed, dict):
        return _flat(raw)
    shown = {k: v for k, v in parsed.items() if k != "request_heartbeat"}
    return _flat(", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items()))


def _flat(value: Any) -> str:
    if isinstance(value, list):  # 1.x content parts
        value = " ".join(str(p.get("text", p)) if isinstance(p, dict) else str(p) for p in value)
    text = " ".join(str(value or "").split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _date(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# ---------------------------------------------------------------------------- what happened


def routes(exchanges: Iterable[Exchange], names: dict[str, str]) -> Counter[str]:
    """How many messages went along each "sender → receiver" route."""
    counted: Counter[str] = Counter()
    for exchange in exchanges:
        for line in activity(exchange, names):
            if "→" in line.route:
                counted[line.route] += 1
    return counted


def memory_changes(before: str, after: str) -> list[str]:
    """What changed in the shared block: task statuses when both values are the tasks'
    JSON, else a line diff."""
    try:
        old, new = json.loads(before), json.loads(after)
        old_tasks = {t["id"]: t for t in old["active_tasks"]}
        new_tasks = {t["id"]: t for t in new["active_tasks"]}
    except (json.JSONDecodeError, KeyError, TypeError):
        return _diff(before, after)
    changes = []
    for task_id, task in new_tasks.items():
        previous = old_tasks.get(task_id)
        owner = task.get("assigned_to", "?")
        if previous is None:
            changes.append(f"{task_id} ({owner}): new task, status {task.get('status')}")
        elif previous.get("status") != task.get("status"):
            changes.append(
                f"{task_id} ({owner}): status {previous.get('status')} → {task.get('status')}"
            )
    for key in sorted(set(old) | set(new)):
        if key != "active_tasks" and old.get(key) != new.get(key):
            changes.append(f"{key}: {old.get(key)!r} → {new.get(key)!r}")
    return changes


def _diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in lines if line[:1] in "+-" and line[:3] not in {"+++", "---"}]


def summary(exchanges: list[Exchange], names: dict[str, str], before: str, after: str) -> list[str]:
    """A few lines: who messaged whom, and what changed in shared memory."""
    lines = ["who messaged whom:"]
    lines += [f"  {route}: {count}" for route, count in sorted(routes(exchanges, names).items())]
    changes = memory_changes(before, after)
    lines.append("shared memory (team_tasks):" + ("" if changes else " unchanged"))
    lines += [f"  {change}" for change in changes]
    return lines


# ---------------------------------------------------------------------------- the log


def build_log(
    *,
    server: str,
    agents: list[dict[str, Any]],
    block_id: str,
    before: str,
    after: str,
    exchanges: list[Exchange],
    started: datetime,
) -> str:
    names = {a["id"]: a["name"] for a in agents}

    def log_lines() -> Iterator[str]:
        yield f"# Multi-agent run, {started.isoformat(timespec='seconds')}"
        yield ""
        yield "## Configuration"
        yield f"server: {server}"
        for agent in agents:
            model = agent.get("model") or (agent.get("llm_config") or {}).get("model")
            tools = ", ".join(t["name"] if isinstance(t, dict) else str(t) for t in agent["tools"])
            rules = ", ".join(
                f"{r.get('type')}:{r.get('tool_name')}" for r in agent.get("tool_rules") or []
            )
            yield f"- {agent['name']} ({agent['id']})"
            yield f"    model {model}; tags {', '.join(agent.get('tags') or [])}"
            yield f"    tools: {tools}"
            yield f"    tool rules: {rules or 'none'}"
        yield ""
        yield f"## Shared memory before (team_tasks, {block_id})"
        yield before
        for number, exchange in enumerate(exchanges, start=1):
            yield ""
            yield f"## Request {number}: {exchange.message}"
            yield f"took {exchange.seconds:.1f} s; trace {(exchange.trace or {}).get('trace_id')}"
            yield ""
            yield "### Activity (time order)"
            lines = activity(exchange, names)
            width = max([len(line.route) for line in lines] + [10])
            for line in lines:
                yield (
                    f"{line.at.strftime('%H:%M:%S.%f')[:-3]}  {line.route:<{width}}  "
                    f"{line.message_type}: {line.text}"
                )
            yield ""
            yield "### Sequence diagram (Mermaid)"
            yield "```mermaid"
            yield ((exchange.trace or {}).get("mermaid") or "sequenceDiagram").rstrip()
            yield "```"
        yield ""
        yield "## Shared memory after"
        yield after
        yield ""
        yield "## Summary"
        yield from summary(exchanges, names, before, after)
        yield ""

    return "\n".join(log_lines())
