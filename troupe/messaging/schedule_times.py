"""When a scheduled message fires: once at `scheduled_at` (Unix milliseconds, as letta-client
sends it) or at each time a cron expression names (croniter: five fields, or six with
seconds last), always in UTC."""

from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from troupe.errors import BadRequest, InvalidInput

MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, the last instant a datetime holds


def first_fire(schedule: dict[str, Any], now: datetime) -> datetime:
    """The first time a new schedule fires; a schedule that never would is refused."""
    if schedule["type"] == "recurring":
        expression = schedule["cron_expression"]
        if len(expression.split()) not in (5, 6) or not croniter.is_valid(expression):
            raise InvalidInput(
                f"cron_expression {expression!r} does not parse: use five fields "
                "(minute hour day-of-month month day-of-week), or six with seconds last"
            )
        return next_fire(schedule, now) or now
    millis = schedule["scheduled_at"]
    if not 0 <= millis <= MAX_MS:
        raise InvalidInput("scheduled_at is Unix time in milliseconds, and out of range")
    at = datetime.fromtimestamp(millis / 1000, UTC)
    if at <= now:  # Letta's docs: "scheduling in the past returns a 400 error"
        raise BadRequest(
            f"scheduled_at {at.isoformat()} is in the past (now is {now.isoformat()}); "
            "it is Unix time in milliseconds"
        )
    return at


def next_fire(schedule: dict[str, Any], after: datetime) -> datetime | None:
    """The next time after `after`; None for a one-time message, which fires once."""
    if schedule["type"] != "recurring":
        return None
    following: datetime = croniter(schedule["cron_expression"], after.astimezone(UTC)).get_next(
        datetime
    )
    return following.astimezone(UTC)
