"""A run's metadata as clients read it: with why the run failed under `error`.

That is where Letta puts the reason (its message route stores `{"error": ...}` as a failed
run's metadata) and where letta-client 1.x can read it: its `Run` type has no `error` field,
and the answer of a turn that failed (`LettaResponse`) has no field for why. The REST view
of a run and the callback POSTed when it ends both show it."""

from typing import Any

from troupe.store.tables import RunRow


def shown_metadata(run: RunRow) -> dict[str, Any] | None:
    """The run's own metadata, with `error` set (over any of its own) when the run failed."""
    if run.error is None:
        return run.metadata_
    return {**(run.metadata_ or {}), "error": run.error}
