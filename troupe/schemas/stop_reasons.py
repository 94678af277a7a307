"""Why a turn stopped: the stop reasons troupe gives, by Letta's names, and which fail a run.

Letta's agent loop tells the causes of a failed turn apart (letta/agents/letta_agent_v3.py,
letta/schemas/letta_stop_reason.py), and clients written against it check them: the
provider could not be used (an HTTP error, a timeout, a refused key: `llm_api_error`), it
answered with something that is no model's answer (`invalid_llm_response`), the model's
answer was cut at its output limit (`max_tokens_exceeded`), anything else (`error`). Each of
them fails the run, as Letta's `StopReasonType.run_status` says.
"""

from typing import Literal

StopReasonValue = Literal[
    "end_turn",
    "max_steps",
    "tool_rule",
    "requires_approval",
    "cancelled",
    "error",
    "llm_api_error",
    "invalid_llm_response",
    "max_tokens_exceeded",
]

FAILING_STOP_REASONS = frozenset(
    {"error", "llm_api_error", "invalid_llm_response", "max_tokens_exceeded"}
)


# The turn ended as its agent meant it to: with an answer, or at a tool a terminal rule names.
FINISHED_STOP_REASONS = frozenset({"end_turn", "tool_rule"})


def fails_run(stop_reason: str | None) -> bool:
    """A run that stopped for this reason failed (its status is `failed`)."""
    return stop_reason in FAILING_STOP_REASONS


def ended_status(stop_reason: str) -> Literal["completed", "failed"]:
    """The status of a run that ran to the end of its turn with this stop reason."""
    return "failed" if fails_run(stop_reason) else "completed"
