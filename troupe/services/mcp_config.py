"""Turning an MCP server config, as either SDK line sends it, into a stored server row, and
a stored row into what the API shows (no secrets)."""

from collections.abc import Mapping
from typing import Any

from troupe.errors import InvalidInput
from troupe.schemas.mcp_servers import HIDDEN, McpServer, McpServerConfig, McpServerType
from troupe.store.mcp_tables import McpServerRow


def check_name(name: str) -> str:
    if "/" in name or not name.strip():
        raise InvalidInput(
            f"MCP server name {name!r} cannot be used: it must not be blank or hold '/' "
            "(0.1.x routes carry it in the URL)"
        )
    return name


def server_type(config: McpServerConfig, url_default: McpServerType) -> McpServerType:
    """The type the config names, else the one its fields imply."""
    kind = config.mcp_server_type or config.type
    if kind is not None:
        return kind
    if config.command:
        return "stdio"
    if config.server_url:
        return url_default
    raise InvalidInput(
        "the MCP server config needs a `command` (a stdio server) or a `server_url` "
        "(an sse or streamable_http server)"
    )


def apply_config(row: McpServerRow, config: McpServerConfig, kind: McpServerType) -> None:
    """Write the config into the row (a new one, or an update of a stored one); fields the
    config leaves out keep their stored values, and a secret sent back as HIDDEN is kept."""
    sent = config.model_fields_set
    changed_type = row.server_type != kind
    row.server_type = kind
    if kind == "stdio":
        command = config.command if config.command is not None else row.command
        if not command or not command.strip():
            raise InvalidInput("a stdio MCP server needs a `command` to run")
        row.command = command
        if config.args is not None or changed_type:
            row.args = list(config.args or [])
        if config.env is not None or changed_type:
            row.env = _merge_secrets(row.env, config.env, "env")
        row.server_url = row.auth_header = row.auth_token = None
        row.custom_headers = None
        return
    url = config.server_url if config.server_url is not None else row.server_url
    if not url or not url.startswith(("http://", "https://")):
        raise InvalidInput(f"a {kind} MCP server needs a `server_url` starting with http(s)://")
    row.server_url = url
    if "auth_header" in sent or changed_type:
        row.auth_header = config.auth_header
    if sent & {"auth_token", "token"}:
        token = config.auth_token if "auth_token" in sent else config.token
        if token != HIDDEN:
            row.auth_token = token
    elif changed_type:
        row.auth_token = None
    if config.custom_headers is not None or changed_type:
        row.custom_headers = _merge_secrets(row.custom_headers, config.custom_headers, "header")
    row.command, row.args, row.env = None, [], None


def _merge_secrets(
    stored: dict[str, Any] | None, sent: Mapping[str, str | None] | None, noun: str
) -> dict[str, str] | None:
    if sent is None:
        return None
    old = stored or {}
    merged: dict[str, str] = {}
    for key, value in sent.items():
        if not key or "=" in key or "\n" in key:
            raise InvalidInput(f"{noun} name {key!r} is not valid")
        if value is None:
            continue
        if value == HIDDEN:
            if key not in old:
                raise InvalidInput(
                    f"{noun} {key!r} is {HIDDEN!r}, which keeps a stored value, but none is "
                    "stored under that name; send the real value"
                )
            merged[key] = str(old[key])
        else:
            merged[key] = value
    return merged


def server_view(row: McpServerRow) -> McpServer:
    """A stored server without its secrets: names of env variables and headers, no values,
    and never the auth token."""
    kind: McpServerType = row.server_type  # type: ignore[assignment]  # stored from the Literal
    hidden_env = {k: HIDDEN for k in row.env} if row.env else None
    hidden_headers = {k: HIDDEN for k in row.custom_headers} if row.custom_headers else None
    shown = McpServer(
        id=row.id,
        server_name=row.name,
        mcp_server_type=kind,
        type=kind,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    if kind == "stdio":
        shown.command, shown.args, shown.env = row.command, list(row.args or []), hidden_env
    else:
        shown.server_url, shown.auth_header = row.server_url, row.auth_header
        shown.custom_headers = hidden_headers
    return shown
