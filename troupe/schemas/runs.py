"""Requests about runs beyond the Run itself: cancelling them, reading their streams."""

from pydantic import Field

from troupe.schemas.common import InputModel


class CancelRequest(InputModel):
    """Body of POST /v1/agents/{id}/messages/cancel: the runs to cancel; none named, every
    run of the agent that has not ended."""

    run_ids: list[str] | None = None


class RunStreamRequest(InputModel):
    """Body of POST /v1/runs/{run_id}/stream (1.x `runs.messages.stream`): the events after
    `starting_after` (a sequence id), then the live ones until the run ends."""

    starting_after: int = Field(default=0, ge=0)
    include_pings: bool = True  # as Letta's default
    poll_interval: float | None = Field(default=None, gt=0, le=60)
    batch_size: int | None = Field(default=None, ge=1, le=1000)
