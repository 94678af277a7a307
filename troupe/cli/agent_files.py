"""`troupe export` / `troupe import`: Agent Files (.af) to and from a running server."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from troupe.cli.http import (
    DEFAULT_URL,
    AsJson,
    ServerUrl,
    agent_id,
    call,
    console,
    fail,
    print_json,
)

AgentRef = Annotated[str, typer.Argument(help="The agent's id (agent-...) or its name.")]


def export(
    agent: AgentRef,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the file here (default: standard output)."),
    ] = None,
    scrub_messages: Annotated[
        bool, typer.Option(help="Leave the agents' messages out of the file.")
    ] = False,
    server_url: ServerUrl = DEFAULT_URL,
    as_json: AsJson = False,
) -> None:
    """Export an agent as an Agent File (.af), with the agents it shares memory blocks with."""
    params = {"scrub_messages": scrub_messages}
    found = call(
        server_url, "GET", f"/v1/agents/{agent_id(server_url, agent)}/export", params=params
    )
    text = json.dumps(found, indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    names = [a["name"] for a in found["agents"]]
    if as_json:
        return print_json({"file": str(output), "agents": names})
    console.print(f"wrote {len(names)} agent(s) to {output}: {', '.join(names)}", highlight=False)


def import_(
    file: Annotated[Path, typer.Argument(help="An Agent File (.af), from troupe or Letta.")],
    name: Annotated[str | None, typer.Option(help="Name the imported agent this.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Run the agents on this model handle, provider/model.")
    ] = None,
    embedding: Annotated[str | None, typer.Option(help="Embedding handle to use.")] = None,
    strip_messages: Annotated[bool, typer.Option(help="Import without the messages.")] = False,
    copy_suffix: Annotated[bool, typer.Option(help='Append "_copy" to the names.')] = False,
    override_existing_tools: Annotated[
        bool,
        typer.Option(help="Rewrite user tools of the same names from the file (else reuse them)."),
    ] = True,
    server_url: ServerUrl = DEFAULT_URL,
    as_json: AsJson = False,
) -> None:
    """Import every agent of an Agent File; their ids, names and models."""
    if not file.is_file():
        fail(f"no file at {file}")
    form: dict[str, Any] = {
        "strip_messages": str(strip_messages).lower(),
        "append_copy_suffix": str(copy_suffix).lower(),
        "override_existing_tools": str(override_existing_tools).lower(),
    }
    for field, value in (("name", name), ("model", model), ("embedding", embedding)):
        if value:
            form[field] = value
    files = {"file": (file.name, file.read_bytes(), "application/json")}
    done = call(server_url, "POST", "/v1/agents/import", data=form, files=files)
    if as_json:
        return print_json(done)
    for imported in done["agent_ids"]:
        agent = call(server_url, "GET", f"/v1/agents/{imported}")
        console.print(f"{agent['id']}  {agent['name']}  {agent['model']}", highlight=False)
