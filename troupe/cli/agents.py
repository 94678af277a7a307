"""`troupe agents ...`: create, list, show and delete agents on a running server."""

from typing import Annotated, Any

import typer
from rich.table import Table

from troupe.cli.http import DEFAULT_URL, AsJson, ServerUrl, agent_id, call, console, print_json
from troupe.schemas.agents import AgentState

app = typer.Typer(
    rich_markup_mode="markdown", help="Agents on a running troupe server.", no_args_is_help=True
)

AgentRef = Annotated[str, typer.Argument(help="The agent's id (agent-...) or its name.")]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name for the agent.")],
    server_url: ServerUrl = DEFAULT_URL,
    model: Annotated[
        str | None,
        typer.Option(help="Model handle, provider/model (default: the server's, local/...)."),
    ] = None,
    system: Annotated[str | None, typer.Option(help="The system prompt.")] = None,
    persona: Annotated[str | None, typer.Option(help="Value of a `persona` memory block.")] = None,
    human: Annotated[str | None, typer.Option(help="Value of a `human` memory block.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="A tool to attach, by name (repeatable).")
    ] = None,
    block_id: Annotated[
        list[str] | None, typer.Option("--block-id", help="A block to share (repeatable).")
    ] = None,
    multi_agent_tools: Annotated[
        bool, typer.Option(help="Attach the cross-agent messaging tools.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create an agent and show it."""
    body: dict[str, Any] = {
        "name": name,
        "tags": tag or [],
        "tools": tool or [],
        "block_ids": block_id or [],
        "include_multi_agent_tools": multi_agent_tools,
        "memory_blocks": [
            {"label": label, "value": value}
            for label, value in (("persona", persona), ("human", human))
            if value is not None
        ],
    }
    if model:
        body["model"] = model
    if system:
        body["system"] = system
    created = call(server_url, "POST", "/v1/agents/", json=body)
    if as_json:
        return print_json(created)
    _show(AgentState.model_validate(created))


@app.command("list")
def list_(
    server_url: ServerUrl = DEFAULT_URL,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only agents with this tag (repeatable).")
    ] = None,
    match_all: Annotated[bool, typer.Option(help="Require every --tag, not any.")] = False,
    name: Annotated[str | None, typer.Option(help="Only agents with this name.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List agents with their tags, model, blocks and tools."""
    params: dict[str, Any] = {"limit": limit, "match_all_tags": match_all}
    if tag:
        params["tags"] = tag
    if name:
        params["name"] = name
    found = call(server_url, "GET", "/v1/agents/", params=params)
    if as_json:
        return print_json(found)
    agents = [AgentState.model_validate(a) for a in found]
    # Names stay whole; on a narrow terminal the long columns fold instead of eliding them.
    table = Table(title=f"{len(agents)} agent{'' if len(agents) == 1 else 's'}")
    table.add_column("name", no_wrap=True)
    for column in ("tags", "model", "blocks"):
        table.add_column(column, overflow="fold")
    table.add_column("tools", justify="right")
    table.add_column("id", overflow="fold")
    for agent in agents:
        table.add_row(
            agent.name,
            ", ".join(agent.tags),
            agent.model,
            ", ".join(b.label for b in agent.blocks),
            str(len(agent.tools)),
            agent.id,
        )
    console.print(table)


@app.command("show")
def show(agent: AgentRef, server_url: ServerUrl = DEFAULT_URL, as_json: AsJson = False) -> None:
    """One agent in full: prompt, memory blocks, tools, tool rules."""
    found = call(server_url, "GET", f"/v1/agents/{agent_id(server_url, agent)}")
    if as_json:
        return print_json(found)
    _show(AgentState.model_validate(found))


@app.command("delete")
def delete(
    agent: AgentRef,
    server_url: ServerUrl = DEFAULT_URL,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
    as_json: AsJson = False,
) -> None:
    """Delete an agent and its history (shared blocks stay)."""
    found = agent_id(server_url, agent)
    if not yes and not typer.confirm(f"delete {agent} ({found}) and its history?"):
        raise typer.Exit(1)
    call(server_url, "DELETE", f"/v1/agents/{found}")
    if as_json:
        return print_json({"deleted": found})
    console.print(f"deleted {found}")


def _show(agent: AgentState) -> None:
    table = Table(show_header=False, title=f"{agent.name}  {agent.id}", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("model", agent.model)
    table.add_row("tags", ", ".join(agent.tags) or "-")
    table.add_row("tools", ", ".join(t.name for t in agent.tools) or "-")
    rules = [f"{r.get('type')}: {r.get('tool_name')}" for r in agent.tool_rules]
    table.add_row("tool rules", "\n".join(rules) or "-")
    table.add_row("system", agent.system)
    for block in agent.blocks:
        table.add_row(
            f"block {block.label}",
            f"[dim]{block.id} {len(block.value)}/{block.limit}[/]\n{block.value}",
        )
    console.print(table)
