"""The CLI's HTTP client: one-line errors instead of tracebacks for everything a person can
get wrong (no server there, an unknown id, refused input)."""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console

from troupe.config import DEFAULT_HOST, DEFAULT_PORT

# Piped or redirected, there is no terminal to fit: nothing is folded (ids stay whole on
# their line, for grep and scripts).
UNBOUNDED = 1_000_000
console = Console(width=None if sys.stdout.isatty() else UNBOUNDED)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else UNBOUNDED)
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

ServerUrl = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="TROUPE_URL",
        help="Base URL of the troupe server ($TROUPE_URL). $TROUPE_API_KEY is sent as the key.",
        show_default=True,
    ),
]


AsJson = Annotated[
    bool,
    typer.Option("--json", help="Print the result as JSON (the server's own shapes) instead."),
]


def print_json(value: Any) -> None:
    """One JSON document on stdout, whole (no markup, no wrapping)."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def rule(title: str, *, stderr: bool = False) -> None:
    """A section heading: a full-width rule on a terminal, a plain line elsewhere."""
    out = errors if stderr else console
    if out.is_terminal:
        out.rule(title)
    else:
        out.print(f"== {title} ==", highlight=False)


def fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def client(base_url: str, timeout: float | None = 30) -> httpx.Client:
    headers = {}
    if key := os.environ.get("TROUPE_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout)


@contextmanager
def reaching(base_url: str) -> Iterator[None]:
    """Turn transport failures into one line naming the server."""
    try:
        yield
    except httpx.ConnectError:
        fail(f"no troupe server at {base_url}; start one with `troupe server`")
    except httpx.TimeoutException:
        fail(f"the server at {base_url} did not answer in time")
    except httpx.HTTPError as exc:
        fail(f"talking to {base_url} failed: {exc}")


def checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        fail(f"{response.status_code} {detail(response)}")
    return response.json() if response.content else None


def detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    found = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(found, list):  # FastAPI's validation errors: say which field and why
        return "; ".join(_validation_error(e) for e in found)
    return found if isinstance(found, str) else str(found)


def _validation_error(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where}: {error.get('msg', error)}" if where else str(error.get("msg", error))


def call(base_url: str, method: str, path: str, **kwargs: Any) -> Any:
    with reaching(base_url), client(base_url) as http:
        return checked(http.request(method, path, **kwargs))


def agent_id(base_url: str, ref: str) -> str:
    """An agent id from an id or a name (names are unique enough for a person to type)."""
    if ref.startswith("agent-"):
        return ref
    found = call(base_url, "GET", "/v1/agents/", params={"name": ref, "limit": 2})
    if not found:
        fail(f"no agent named {ref!r} (give its name or its agent-... id)")
    if len(found) > 1:
        fail(f"several agents are named {ref!r}; give the id (see `troupe agents list`)")
    return str(found[0]["id"])
