"""The `troupe` command: run the server, and look at agents and blocks on a running one."""

import json
import os
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from troupe.config import DEFAULT_HOST, DEFAULT_PORT
from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block
from troupe.schemas.traces import Trace, TraceRun

app = typer.Typer(
    help="troupe: a server for stateful multi-agent LLM systems (Letta-compatible /v1 API).",
    no_args_is_help=True,
    add_completion=False,
)
agents_app = typer.Typer(help="Agents on a running troupe server.", no_args_is_help=True)
blocks_app = typer.Typer(help="Memory blocks on a running troupe server.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(blocks_app, name="blocks")

console = Console()

ServerUrl = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="TROUPE_URL",
        help="Base URL of the troupe server.",
        show_default=True,
    ),
]
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL (sqlite:///path.db or postgresql://...). "
            "Default: $TROUPE_DATABASE_URL, else SQLite in the data directory."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Start the troupe server (migrates the database first)."""
    import uvicorn

    from troupe.config import Settings
    from troupe.server.app import create_app

    overrides: dict[str, Any] = {"host": host, "port": port}
    if db:
        overrides["database_url"] = db
    settings = Settings(**overrides)
    console.print(
        f"troupe on http://{host}:{port}  database: {_redact(settings.resolved_database_url())}"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


@app.command()
def check(
    db: Annotated[
        str | None,
        typer.Option(help="Database URL. Default: $TROUPE_DATABASE_URL, else the SQLite default."),
    ] = None,
    idle: Annotated[
        bool,
        typer.Option(help="Also require a quiet store: no run or delivery left in progress."),
    ] = False,
) -> None:
    """Check the store's integrity (read-only): runs, histories, deliveries, blocks. Exits 1
    on any problem. Safe beside a running server; use --idle only when it is quiet."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from troupe.config import Settings
    from troupe.store.integrity import check_database

    settings = Settings(database_url=db) if db else Settings()
    url = settings.resolved_database_url()
    try:
        report = asyncio.run(check_database(url, idle=idle))
    except (DBAPIError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        typer.echo(f"cannot read a troupe store at {_redact(url)}: {reason}", err=True)
        typer.echo("is the URL right, and has `troupe server` run on it once?", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{_redact(url)}\n{report.summary()}")
    if not report.ok:
        raise typer.Exit(1)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _client(base_url: str) -> httpx.Client:
    headers = {}
    if key := os.environ.get("TROUPE_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def _get(base_url: str, path: str, params: dict[str, Any] | None = None) -> Any:
    try:
        with _client(base_url) as client:
            response = client.get(path, params=params)
    except httpx.ConnectError:
        console.print(f"[red]no troupe server at {base_url}[/]: start one with `troupe server`")
        raise typer.Exit(1) from None
    if response.status_code >= 400:
        detail = response.json().get("detail", response.text)
        console.print(f"[red]{response.status_code}[/] {detail}")
        raise typer.Exit(1)
    return response.json()


@agents_app.command("list")
def agents_list(
    server_url: ServerUrl = DEFAULT_URL,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only agents with this tag.")
    ] = None,
    match_all: Annotated[bool, typer.Option(help="Require every --tag, not any.")] = False,
    limit: int = 100,
) -> None:
    """List agents with their tags, model, blocks and tools."""
    params: dict[str, Any] = {"limit": limit, "match_all_tags": match_all}
    if tag:
        params["tags"] = tag
    agents = [AgentState.model_validate(a) for a in _get(server_url, "/v1/agents/", params)]
    table = Table("id", "name", "tags", "model", "blocks", "tools", title=f"{len(agents)} agents")
    for agent in agents:
        table.add_row(
            agent.id,
            agent.name,
            ", ".join(agent.tags),
            agent.model,
            ", ".join(b.label for b in agent.blocks),
            str(len(agent.tools)),
        )
    console.print(table)


@blocks_app.command("list")
def blocks_list(
    server_url: ServerUrl = DEFAULT_URL,
    label: Annotated[str | None, typer.Option(help="Only blocks with this label.")] = None,
    limit: int = 100,
) -> None:
    """List memory blocks with their size, limit and version."""
    params: dict[str, Any] = {"limit": limit}
    if label:
        params["label"] = label
    blocks = [Block.model_validate(b) for b in _get(server_url, "/v1/blocks/", params)]
    table = Table("id", "label", "chars", "version", "value", title=f"{len(blocks)} blocks")
    for block in blocks:
        preview = block.value.replace("\n", " ")
        table.add_row(
            block.id,
            block.label,
            f"{len(block.value)}/{block.limit}",
            str(block.version),
            preview[:60] + ("…" if len(preview) > 60 else ""),
        )
    console.print(table)


@app.command()
def send(
    agent_id: Annotated[str, typer.Argument(help="The agent to message.")],
    message: Annotated[str, typer.Argument(help="What to say.")],
    server_url: ServerUrl = DEFAULT_URL,
    max_steps: Annotated[int, typer.Option(help="Cap on model calls for this turn.")] = 50,
) -> None:
    """Send a message to an agent and stream what it does and says."""
    body = {"messages": [{"role": "user", "content": message}], "max_steps": max_steps}
    try:
        with (
            _client(server_url) as client,
            client.stream(
                "POST", f"/v1/agents/{agent_id}/messages/stream", json=body, timeout=None
            ) as response,
        ):
            if response.status_code >= 400:
                response.read()
                console.print(f"[red]{response.status_code}[/] {response.json().get('detail')}")
                raise typer.Exit(1)
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    _print_event(json.loads(line[len("data: ") :]))
    except httpx.ConnectError:
        console.print(f"[red]no troupe server at {server_url}[/]: start one with `troupe server`")
        raise typer.Exit(1) from None


def _print_event(event: dict[str, Any]) -> None:
    kind = event.get("message_type")
    if kind == "assistant_message":
        console.print(f"[bold green]{event.get('name') or 'agent'}:[/] {event['content']}")
    elif kind == "reasoning_message":
        console.print(f"[dim]thinking: {event['reasoning']}[/]")
    elif kind == "tool_call_message":
        call = event["tool_call"]
        console.print(f"[cyan]→ {call['name']}[/]({call['arguments']})")
    elif kind == "tool_return_message":
        colour = "cyan" if event["status"] == "success" else "red"
        console.print(f"[{colour}]← {event['tool_return']}[/]")
    elif kind == "stop_reason":
        console.print(f"[dim]stop: {event['stop_reason']}[/]")
    elif kind == "usage_statistics":
        console.print(f"[dim]{event['step_count']} steps, {event['total_tokens']} tokens[/]")


@app.command()
def trace(
    trace_id: Annotated[str, typer.Argument(help="A trace id (runs carry theirs: trace_id).")],
    server_url: ServerUrl = DEFAULT_URL,
) -> None:
    """Show everything one request caused across agents: the run tree and the sequence
    diagram (Mermaid text, paste it into any Mermaid renderer)."""
    found = Trace.model_validate(_get(server_url, f"/v1/traces/{trace_id}"))
    tree = Tree(f"trace {found.trace_id}")
    for run in found.runs:
        _add_run(tree, run)
    console.print(tree)
    console.print()
    console.print(found.mermaid, markup=False, highlight=False)


def _add_run(parent: Tree, run: TraceRun) -> None:
    took = f"{run.duration_ms} ms" if run.duration_ms is not None else "…"
    node = parent.add(
        f"[bold]{run.agent_name}[/] {run.kind} [dim]{run.id}[/] {run.status} "
        f"({run.stop_reason or '-'}, {took})"
    )
    for child in run.children:
        _add_run(node, child)
