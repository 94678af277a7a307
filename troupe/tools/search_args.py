"""The arguments the search tools share, read as Letta's tools read them: time bounds in ISO
8601 (a date alone spans its whole day), a result count, tags, and the MemGPT-era paging
(`page`, `start`) older agents still send. Each reader raises `SearchArgError` with a message
for the model; nothing is searched then."""

from datetime import UTC, datetime, time
from typing import Any

from troupe.schemas.passages import MAX_TAGS, MAX_TOP_K

# Letta's RETRIEVAL_QUERY_DEFAULT_PAGE_SIZE: what a search returns when no count is asked.
DEFAULT_COUNT = 5


class SearchArgError(Exception):
    """An argument the search cannot use; the message goes back to the model."""


def time_bound(value: Any, name: str, *, end: bool) -> datetime | None:
    """A bound on creation time, inclusive. A date alone (`2024-01-15`) starts at its first
    moment, or as an end takes in the whole day, as Letta's docstrings promise; a time
    without an offset is UTC (troupe's agents have no time zone of their own)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    problem = f"Invalid {name} format: {text}. Use ISO 8601 format (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
    if len(text) > 64:
        raise SearchArgError(problem)
    try:
        if len(text) == 10:  # a date alone
            day = datetime.strptime(text, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.max if end else time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise SearchArgError(problem) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def count(value: Any, name: str, default: int = DEFAULT_COUNT) -> int:
    """How many results: a whole number from 1 to MAX_TOP_K; `default` when not given."""
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SearchArgError(f"`{name}` must be a whole number, not {value!r}") from None
    if (isinstance(value, float) and value != number) or not 1 <= number <= MAX_TOP_K:
        raise SearchArgError(f"`{name}` must be a whole number from 1 to {MAX_TOP_K}")
    return number


def skipped(page: Any, start: Any, per_page: int) -> int:
    """How many results the old paging arguments skip: `start` plus `page` pages."""
    return non_negative(start) + non_negative(page) * per_page


def non_negative(value: Any) -> int:
    """A page or offset as MemGPT read it: anything that is not a whole number is 0."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return 0
    try:
        return max(0, int(value)) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def tags(value: Any) -> list[str]:
    """The tags to filter by; anything that cannot be a tag is left out."""
    if not isinstance(value, list):
        return []
    return [t for t in value if isinstance(t, str) and 0 < len(t) <= 255][:MAX_TAGS]


def choice(value: Any, name: str, allowed: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise SearchArgError(f"`{name}` must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)
