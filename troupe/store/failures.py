"""How a failure is told to clients (a run's `error`, a stream's error event): a database
error's own message without its SQL statement, which can be tens of KB of the caller's data.
The log keeps the full exception."""

from sqlalchemy.exc import StatementError

# A client-facing failure message is a sentence, not a dump.
MAX_FAILURE_CHARS = 500


def failure_text(exc: BaseException) -> str:
    """`exc`'s message for clients: for a database error the driver's message only."""
    text = str(exc.orig) if isinstance(exc, StatementError) else str(exc)
    return text[:MAX_FAILURE_CHARS]
