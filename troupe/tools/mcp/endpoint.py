"""Where an MCP server is and how to reach it: everything a connection needs, secrets
included (this object never leaves the server)."""

from dataclasses import dataclass, field
from typing import Literal

from troupe.store.mcp_tables import McpServerRow

Transport = Literal["stdio", "sse", "streamable_http"]


@dataclass(frozen=True)
class McpEndpoint:
    server_id: str
    name: str
    transport: Transport
    url: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    # Only what the server's config names: a stdio server inherits nothing of troupe's.
    env: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        return f"MCP server {self.name!r}"


def endpoint_of(row: McpServerRow) -> McpEndpoint:
    """How to reach a stored server: its auth token becomes a header, as Letta sends it."""
    headers = {str(k): str(v) for k, v in (row.custom_headers or {}).items()}
    if row.auth_token:
        name = row.auth_header or "Authorization"
        token = row.auth_token
        if name.lower() == "authorization" and " " not in token.strip():
            token = f"Bearer {token}"
        headers[name] = token
    return McpEndpoint(
        server_id=row.id,
        name=row.name,
        transport=row.server_type,  # type: ignore[arg-type]  # the API only stores these
        url=row.server_url,
        command=row.command,
        args=tuple(str(a) for a in row.args or []),
        env=tuple((str(k), str(v)) for k, v in (row.env or {}).items()),
        headers=tuple(headers.items()),
    )
