"""What a server's MCP sessions may take, and how their failures reach callers: plain terms,
importable without the MCP SDK (which is loaded with the first session; see pool.py)."""

from dataclasses import dataclass, field

from troupe.tools.sandbox import SandboxLimits


@dataclass(frozen=True)
class McpLimits:
    call_timeout_s: float = 60.0  # one tool call, or one listing of the tools
    connect_timeout_s: float = 30.0  # starting (stdio) or reaching (HTTP) and initializing
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)  # a stdio server's limits


class McpUnavailable(Exception):
    """The server could not be reached, or stopped answering; the message says which."""


class McpToolError(Exception):
    """The server answered the request with an error (the session itself is fine)."""
