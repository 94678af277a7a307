"""The `troupe` command: run the server, manage agents and blocks on a running one, talk to
agents, read traces, and run the supervisor–worker demo."""

from typing import Annotated, Any

import typer

from troupe.cli import agent_files, agents, blocks, demo, runs, talk
from troupe.cli.http import AsJson, console, print_json
from troupe.cli.serving import uvicorn_options
from troupe.config import DEFAULT_HOST, DEFAULT_PORT

app = typer.Typer(
    # Markdown reflows docstring paragraphs; the default keeps their hard line breaks.
    rich_markup_mode="markdown",
    help="troupe: a server for stateful multi-agent LLM systems (Letta-compatible /v1 API). "
    "Commands other than `server` and `demo` talk to a running server: --server or "
    "$TROUPE_URL, default http://127.0.0.1:8283.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(agents.app, name="agents")
app.add_typer(blocks.app, name="blocks")
app.add_typer(runs.app, name="runs")
app.command()(talk.send)
app.command()(talk.trace)
app.command()(demo.demo)
app.command("export")(agent_files.export)
app.command("import")(agent_files.import_)


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    db: Annotated[
        str | None,
        typer.Option(
            help="Database URL (sqlite:///path.db or postgresql://...). "
            "Default: $TROUPE_DATABASE_URL, else SQLite in the data directory."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (uvicorn's access log).")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Announce the start as JSON: {"url": ..., "database": ...}.'),
    ] = False,
) -> None:
    """Start the troupe server (migrates the database first)."""
    import uvicorn

    from troupe.config import Settings
    from troupe.server.app import create_app

    overrides: dict[str, Any] = {"host": host, "port": port}
    if db:
        overrides["database_url"] = db
    settings = Settings(**overrides)
    database = _redact(settings.resolved_database_url())
    if as_json:
        print_json({"url": f"http://{host}:{port}", "database": database})
    else:
        console.print(f"troupe on http://{host}:{port}  database: {database}")
    uvicorn.run(create_app(settings), **uvicorn_options(host, port, log_level, access_log))


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
    as_json: AsJson = False,
) -> None:
    """Check the store's integrity (read-only): runs, histories, deliveries, blocks. Exits 1
    on any problem. Safe beside a running server; use --idle only when it is quiet."""
    import asyncio

    from sqlalchemy.exc import ArgumentError, DBAPIError

    from troupe.config import Settings
    from troupe.store.integrity import check_database

    settings = Settings(database_url=db) if db else Settings()
    try:
        url = settings.resolved_database_url()
        report = asyncio.run(check_database(url, idle=idle))
    except (DBAPIError, OSError, ArgumentError) as exc:  # ArgumentError: not a database URL
        reason = getattr(exc, "orig", None) or exc
        typer.echo(f"cannot read a troupe store at {_redact(url)}: {reason}", err=True)
        typer.echo("is the URL right, and has `troupe server` run on it once?", err=True)
        raise typer.Exit(2) from None
    if as_json:
        print_json(
            {
                "database": _redact(url),
                "ok": report.ok,
                "counts": report.counts,
                "problem_counts": dict(report.problem_counts),
                "problems": [{"kind": p.kind, "detail": p.detail} for p in report.problems],
            }
        )
    else:
        typer.echo(f"{_redact(url)}\n{report.summary()}")
    if not report.ok:
        raise typer.Exit(1)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
