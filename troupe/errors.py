"""One error root for everything troupe raises on purpose.

Each child maps to exactly one HTTP status in `troupe.server.errors`; messages are written
for the person reading them and say what to do next.
"""


class TroupeError(Exception):
    """Base of every deliberate troupe error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TroupeError):
    """A referenced object (agent, block, tool, ...) does not exist."""


class Conflict(TroupeError):
    """The request clashes with the current state (duplicate name, label taken, stale version)."""


class InvalidInput(TroupeError):
    """The request is well-formed JSON but its content cannot be accepted."""


class BadRequest(TroupeError):
    """Content refused where Letta answers 400 rather than 422 (a schedule's time in the
    past); nothing was changed."""


class Unauthorized(TroupeError):
    """A missing or wrong API key."""


class Unavailable(TroupeError):
    """Too busy to take this request now (an agent's queue, the server's request limit);
    nothing was done, and the same request may be sent again after `retry_after_s`."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooLarge(TroupeError):
    """The content sent is over a configured size limit; nothing was stored."""


class Unsupported(TroupeError):
    """The content sent is of a type troupe cannot read (a file format, say)."""


class DependencyFailed(TroupeError):
    """A server this request relies on (an MCP server) could not be reached or failed; the
    message says how. Nothing was changed."""
