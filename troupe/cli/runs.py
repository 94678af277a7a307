"""`troupe runs ...`: what was asked of agents and how it went; cancel what is still going."""

from typing import Annotated, Any

import typer
from rich.table import Table

from troupe.cli.display import run_state
from troupe.cli.http import (
    DEFAULT_URL,
    AsJson,
    ServerUrl,
    agent_id,
    call,
    checked,
    client,
    console,
    print_json,
    reaching,
)

app = typer.Typer(
    rich_markup_mode="markdown", help="Runs on a running troupe server.", no_args_is_help=True
)

RunId = Annotated[str, typer.Argument(help="The run's id (run-...).")]


@app.command("list")
def list_(
    server_url: ServerUrl = DEFAULT_URL,
    agent: Annotated[str | None, typer.Option(help="Only this agent's (id or name).")] = None,
    active: Annotated[bool, typer.Option(help="Only runs not ended yet.")] = False,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Runs, newest first: status (a run its step limit stopped says so), steps, tokens."""
    params: dict[str, Any] = {"limit": limit, "active": active}
    if agent:
        params["agent_id"] = agent_id(server_url, agent)
    if status:
        params["status"] = status
    found = call(server_url, "GET", "/v1/runs/", params=params)
    if as_json:
        return print_json(found)
    table = Table(title=f"{len(found)} run{'' if len(found) == 1 else 's'}")
    for column in ("created", "agent", "state", "steps", "tokens"):
        table.add_column(column)
    table.add_column("id", no_wrap=True)
    for run in found:
        usage = run.get("usage") or {}
        table.add_row(
            run["created_at"][:19].replace("T", " "),
            run["agent_id"],
            run_state(run["status"], run.get("stop_reason")),
            str(usage.get("step_count", "-")),
            str(usage.get("total_tokens", "-")),
            run["id"],
        )
    console.print(table)


@app.command("show")
def show(run: RunId, server_url: ServerUrl = DEFAULT_URL, as_json: AsJson = False) -> None:
    """One run: its state, error, and steps with their timings."""
    found = call(server_url, "GET", f"/v1/runs/{run}")
    steps = call(server_url, "GET", f"/v1/runs/{run}/steps", params={"limit": 1000})
    if as_json:
        return print_json({**found, "steps": steps})
    console.print(
        f"[bold]{found['id']}[/] of {found['agent_id']}: "
        f"{run_state(found['status'], found.get('stop_reason'))} "
        f"(stop reason {found.get('stop_reason') or '-'})"
    )
    if found.get("error"):
        console.print(f"[red]error: {found['error']}[/]", highlight=False)
    if found.get("trace_id"):
        console.print(f"[dim]trace: {found['trace_id']}[/]")
    table = Table("step", "model", "tokens", title=f"{len(steps)} steps")
    table.add_column("id", no_wrap=True)
    for number, step in enumerate(steps, start=1):
        table.add_row(str(number), step["model"], str(step["total_tokens"]), step["id"])
    console.print(table)


@app.command("cancel")
def cancel(
    agent: Annotated[str, typer.Argument(help="The agent's id (agent-...) or its name.")],
    run: Annotated[
        list[str] | None,
        typer.Option("--run", help="Only this run (repeatable); default: all not ended."),
    ] = None,
    server_url: ServerUrl = DEFAULT_URL,
    as_json: AsJson = False,
) -> None:
    """Cancel an agent's runs (and the runs they started); what finished steps stored stays."""
    target = agent_id(server_url, agent)
    body = {"run_ids": run} if run else {}
    with reaching(server_url), client(server_url) as http:
        answer = http.post(f"/v1/agents/{target}/messages/cancel", json=body)
    # With no run named, 409 is the server's (Letta's) way of saying none is going.
    cancelled = {} if answer.status_code == 409 and not run else checked(answer)
    if as_json:
        return print_json(cancelled)
    if not cancelled:
        console.print("nothing to cancel: no run of this agent is going")
    for run_id in cancelled:
        console.print(f"cancelled {run_id}")
