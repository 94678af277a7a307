"""`troupe demo`: the supervisor–worker cookbook from the installed package."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from troupe.cli.http import console, errors, fail, print_json, rule
from troupe.cookbook import team

START_TIMEOUT_S = 60


def demo(
    server_url: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Run against this server. Default: start a throwaway one on a temporary "
            "SQLite database, and stop it afterwards.",
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="Model handle for every agent.")] = team.DEFAULT_MODEL,
    tool_rules: Annotated[
        bool,
        typer.Option(help="Keep the flow fixed with tool rules (turn off for real models)."),
    ] = True,
    message: Annotated[
        str, typer.Option(help="What to ask the supervisor.")
    ] = team.EXAMPLE_MESSAGE,
    output: Annotated[Path, typer.Option(help="Where to write the log.")] = Path("troupe-demo.log"),
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the outcome (team ids, summary, log path) as JSON; progress goes to "
            "stderr.",
        ),
    ] = False,
) -> None:
    """Run the supervisor–worker workflow and write its log.

    Creates the cookbook's team (a shared task board, a supervisor, three workers), asks
    the supervisor for a progress update, and writes the log: who messaged whom, what
    changed in shared memory, the trace as a sequence diagram. Same code as the scripts in
    examples/multi-agent-workflow/, through the official letta-client SDK."""
    from troupe.cookbook import workflow

    say = errors.print if as_json else console.print
    with _server(server_url, say) as url:
        try:
            client = workflow.connect(url)
        except ImportError:
            fail("troupe demo needs the letta-client SDK: pip install 'troupe[examples]'")
        rule("step 1: the team", stderr=as_json)
        ids = workflow.create_team(client, model=model, tool_rules=tool_rules, out=say)
        rule("step 2: the request", stderr=as_json)
        session = workflow.Session(client, url, ids.supervisor_id, ids.worker_ids, say)
        summary = workflow.run_session(session, [message], str(output), datetime.now())
    if as_json:
        return print_json(
            {
                "supervisor_id": ids.supervisor_id,
                "worker_ids": list(ids.worker_ids),
                "summary": summary,
                "log": str(output.resolve()),
            }
        )
    rule("summary")
    console.print("\n".join(summary), highlight=False)
    console.print(f"log: {output.resolve()}")


@contextmanager
def _server(url: str | None, say: Callable[..., None]) -> Iterator[str]:
    if url:
        try:
            httpx.get(f"{url}/v1/health/", timeout=5).raise_for_status()
        except httpx.HTTPError:
            fail(
                f"no troupe server at {url}; start one with `troupe server`, or leave out --server"
            )
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="troupe-demo-") as home:
        port = _free_port()
        log = Path(home) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "troupe", "server", "--host", "127.0.0.1", "--port",
                 str(port), "--db", f"sqlite:///{home}/troupe.db", "--log-level", "warning"],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**os.environ, **team.DEMO_SERVER_ENV},
            )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url, process, log)
            say(f"troupe is up at {url} (SQLite in {home})")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_for(url: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with console.status("starting a troupe server…"):
        while time.monotonic() < deadline:
            if process.poll() is not None:
                fail(f"the server exited at start:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/v1/health/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    fail(f"the server did not answer within {START_TIMEOUT_S} s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
