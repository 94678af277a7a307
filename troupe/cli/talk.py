"""`troupe send` and `troupe trace`: talk to an agent, and see what a request caused."""

import json
from typing import Annotated, Any

import typer
from rich.tree import Tree

from troupe.cli.display import run_state
from troupe.cli.http import (
    DEFAULT_URL,
    AsJson,
    ServerUrl,
    agent_id,
    call,
    client,
    console,
    detail,
    fail,
    print_json,
    reaching,
)
from troupe.schemas.messages import DEFAULT_MAX_STEPS
from troupe.schemas.traces import Trace, TraceRun

TRACE_HEADER, RUN_HEADER = "x-troupe-trace-id", "x-troupe-run-id"


def send(
    agent: Annotated[str, typer.Argument(help="The agent's id (agent-...) or its name.")],
    message: Annotated[str, typer.Argument(help="What to say.")],
    server_url: ServerUrl = DEFAULT_URL,
    max_steps: Annotated[int, typer.Option(help="Cap on model calls for this turn.")] = (
        DEFAULT_MAX_STEPS
    ),
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print each event as one line of JSON (the server's shapes), then a last "
            'line {"message_type": "trace", "trace_id": ..., "run_id": ...}.',
        ),
    ] = False,
) -> None:
    """Send a message to an agent and stream what it does and says.

    Each step is printed as it completes; the last line is the request's trace id (see
    `troupe trace`). A turn cut short by --max-steps says so."""
    target = agent_id(server_url, agent)
    body = {"messages": [{"role": "user", "content": message}], "max_steps": max_steps}
    with (
        reaching(server_url),
        client(server_url, timeout=None) as http,
        http.stream("POST", f"/v1/agents/{target}/messages/stream", json=body) as response,
    ):
        if response.status_code >= 400:
            response.read()
            fail(f"{response.status_code} {detail(response)}")
        events = (
            event
            for line in response.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"
            # keepalive pings (sent while a step is quiet) say nothing of the turn
            if (event := json.loads(line[len("data: ") :])).get("message_type") != "ping"
        )
        trace_id = response.headers.get(TRACE_HEADER)
        if as_json:
            for event in events:
                typer.echo(json.dumps(event, ensure_ascii=False))
            run_id = response.headers.get(RUN_HEADER)
            end = {"message_type": "trace", "trace_id": trace_id, "run_id": run_id}
            typer.echo(json.dumps(end))
            return
        with console.status(f"{agent} is working…"):
            for event in events:
                _print_event(event, max_steps)
        if trace_id:
            console.print(f"[dim]trace: {trace_id}  (troupe trace {trace_id})[/]")


def _print_event(event: dict[str, Any], max_steps: int) -> None:
    kind = event.get("message_type")
    if kind == "assistant_message":
        console.print(f"[bold green]{event.get('name') or 'agent'}:[/] {event['content']}")
    elif kind == "reasoning_message":
        console.print(f"[dim]thinking: {event['reasoning']}[/]")
    elif kind == "tool_call_message":
        call_ = event["tool_call"]
        console.print(f"[cyan]→ {call_['name']}[/]({call_['arguments']})", highlight=False)
    elif kind == "tool_return_message":
        colour = "cyan" if event["status"] == "success" else "red"
        console.print(f"[{colour}]← {event['tool_return']}[/]", highlight=False)
    elif kind == "error_message":
        console.print(f"[red]error: {event.get('message')}[/]")
    elif kind == "stop_reason" and event["stop_reason"] == "max_steps":
        console.print(
            f"[bold yellow]stopped at the step limit ({max_steps} steps) before the agent "
            "finished[/]: raise --max-steps, or see what it kept doing above"
        )
    elif kind == "stop_reason":
        console.print(f"[dim]stop: {event['stop_reason']}[/]")
    elif kind == "usage_statistics":
        console.print(f"[dim]{event['step_count']} steps, {event['total_tokens']} tokens[/]")


def trace(
    trace_id: Annotated[
        str, typer.Argument(help="A trace id: `troupe send` prints it; runs carry it.")
    ],
    server_url: ServerUrl = DEFAULT_URL,
    as_json: AsJson = False,
) -> None:
    """Show everything one request caused across agents.

    First the run tree with timings, then the sequence diagram as Mermaid text (paste it
    into any Mermaid renderer)."""
    raw = call(server_url, "GET", f"/v1/traces/{trace_id}")
    if as_json:
        return print_json(raw)
    found = Trace.model_validate(raw)
    tree = Tree(f"trace {found.trace_id}")
    for run in found.runs:
        _add_run(tree, run)
    console.print(tree)
    console.print()
    console.print(found.mermaid, markup=False, highlight=False)


def _add_run(parent: Tree, run: TraceRun) -> None:
    took = f"{run.duration_ms} ms" if run.duration_ms is not None else "…"
    state = run_state(run.status, run.stop_reason)
    node = parent.add(
        f"[bold]{run.agent_name}[/] {run.kind} [dim]{run.id}[/] {state} "
        f"({run.stop_reason or '-'}, {took})"
    )
    for child in run.children:
        _add_run(node, child)
