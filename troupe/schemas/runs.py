"""Requests and answers about runs beyond the Run itself: cancelling them."""

from troupe.schemas.common import InputModel


class CancelRequest(InputModel):
    """Body of POST /v1/agents/{id}/messages/cancel: the runs to cancel; none named, every
    run of the agent that has not ended."""

    run_ids: list[str] | None = None
