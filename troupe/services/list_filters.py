"""Query filters of Letta's list routes: how list values arrive, and refusing the filters
this server cannot apply (ignoring one would return items the caller did not ask for, and a
`list` then `delete` loop would remove them)."""

from collections.abc import Mapping, Sequence

from troupe.errors import InvalidInput


def split_commas(values: Sequence[str]) -> list[str]:
    """`["a,b", "c"]` -> `["a", "b", "c"]`: list filters may be repeated or comma-separated."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def refuse_unsupported(filters: Mapping[str, object]) -> None:
    """422 naming every filter given (not None, not empty) of these."""
    given = sorted(name for name, value in filters.items() if value not in (None, [], ""))
    if given:
        plural = "s" if len(given) > 1 else ""
        raise InvalidInput(f"filter{plural} not supported by this server: {', '.join(given)}")
