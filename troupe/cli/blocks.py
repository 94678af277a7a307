"""`troupe blocks ...`: memory blocks on a running server."""

from typing import Annotated, Any

import typer
from rich.table import Table

from troupe.cli.http import DEFAULT_URL, AsJson, ServerUrl, call, console, fail, print_json
from troupe.schemas.blocks import Block

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Memory blocks on a running troupe server.",
    no_args_is_help=True,
)

BlockId = Annotated[str, typer.Argument(help="The block's id (block-...).")]
PREVIEW = 60


@app.command("list")
def list_(
    server_url: ServerUrl = DEFAULT_URL,
    label: Annotated[str | None, typer.Option(help="Only blocks with this label.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List memory blocks with their size, limit and version."""
    params: dict[str, Any] = {"limit": limit}
    if label:
        params["label"] = label
    found = call(server_url, "GET", "/v1/blocks/", params=params)
    if as_json:
        return print_json(found)
    blocks = [Block.model_validate(b) for b in found]
    table = Table("label", "chars", "version", "value", title=f"{len(blocks)} blocks")
    table.add_column("id", no_wrap=True)
    for block in blocks:
        preview = " ".join(block.value.split())
        table.add_row(
            block.label,
            f"{len(block.value)}/{block.limit}",
            str(block.version),
            preview[:PREVIEW] + ("…" if len(preview) > PREVIEW else ""),
            block.id,
        )
    console.print(table)


@app.command("show")
def show(block: BlockId, server_url: ServerUrl = DEFAULT_URL, as_json: AsJson = False) -> None:
    """A block's value in full, and the agents that share it."""
    raw = call(server_url, "GET", f"/v1/blocks/{block}")
    agents = call(server_url, "GET", f"/v1/blocks/{block}/agents")
    if as_json:
        return print_json({**raw, "agents": [{"id": a["id"], "name": a["name"]} for a in agents]})
    found = Block.model_validate(raw)
    console.print(
        f"[bold]{found.label}[/] {found.id}  {len(found.value)}/{found.limit} chars, "
        f"version {found.version}" + ("  read-only" if found.read_only else "")
    )
    if found.description:
        console.print(f"[dim]{found.description}[/]")
    console.print("agents: " + (", ".join(f"{a['name']} ({a['id']})" for a in agents) or "none"))
    console.print(found.value, markup=False, highlight=False)


@app.command("create")
def create(
    label: Annotated[str, typer.Argument(help="The block's label, e.g. team_tasks.")],
    value: Annotated[str, typer.Argument(help="Its text.")],
    server_url: ServerUrl = DEFAULT_URL,
    limit: Annotated[int | None, typer.Option(help="Most characters it may hold.")] = None,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
    as_json: AsJson = False,
) -> None:
    """Create a block (attach it with `troupe agents create --block-id`)."""
    body: dict[str, Any] = {"label": label, "value": value}
    if limit is not None:
        body["limit"] = limit
    if description is not None:
        body["description"] = description
    created = call(server_url, "POST", "/v1/blocks/", json=body)
    if as_json:
        return print_json(created)
    found = Block.model_validate(created)
    console.print(f"created {found.label} {found.id}")


@app.command("edit")
def edit(
    block: BlockId,
    server_url: ServerUrl = DEFAULT_URL,
    value: Annotated[str | None, typer.Option(help="The new text.")] = None,
    append: Annotated[str | None, typer.Option(help="Text to add on a new line.")] = None,
    as_json: AsJson = False,
) -> None:
    """Change a block's value.

    The edit applies only if nobody changed the block since it was read (compare-and-set
    on its version), so a concurrent agent edit is never lost."""
    if (value is None) == (append is None):
        fail("give exactly one of --value and --append")
    current = Block.model_validate(call(server_url, "GET", f"/v1/blocks/{block}"))
    new = value if value is not None else f"{current.value}\n{append}" if current.value else append
    edited = call(
        server_url,
        "PATCH",
        f"/v1/blocks/{block}",
        json={"value": new, "expected_version": current.version},
    )
    if as_json:
        return print_json(edited)
    found = Block.model_validate(edited)
    console.print(f"{found.label} {found.id}: version {found.version}, {len(found.value)} chars")
