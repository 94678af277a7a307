"""A turn as the loop takes it (what to answer, for which history, under which limits)
and what it gives back."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.cancel import CancelSignal
from troupe.agent.messages import Message
from troupe.agent.verdict import StopReason
from troupe.llm.base import ToolSpec
from troupe.store.messages import History

if TYPE_CHECKING:
    from troupe.agent.token_stream import PieceObserver
    from troupe.observability.spans import RunSpan


@dataclass(frozen=True)
class InputMessage:
    # "approval": answers to the calls the agent waits on, as JSON (see agent.approvals)
    role: Literal["user", "system", "approval"]
    text: str
    name: str | None = None
    otid: str | None = None
    sender_agent_id: str | None = None
    images: list[dict[str, Any]] | None = None  # image sources of a user message, as sent


@dataclass(frozen=True)
class Turn:
    agent_id: str
    run_id: str
    trace_id: str
    inputs: list[InputMessage]
    max_steps: int
    chain: tuple[str, ...] = ()
    # Runs inside the transaction that first records the inputs (e.g. marks a delivery done).
    on_inputs_recorded: Callable[[AsyncSession], Awaitable[None]] | None = None
    # The step that ends the turn also records the run's end ("completed", its stop reason
    # and final usage) in its transaction.
    records_end: bool = False
    # Tools the client runs itself, offered for this turn only (`client_tools`).
    client_tools: tuple[ToolSpec, ...] = ()
    # Set by whoever may cancel the run (see troupe.agent.cancel).
    cancel: CancelSignal = field(default_factory=CancelSignal)
    # Per request (Letta's `override_model`, `response_format`): this turn only.
    model: str | None = None
    response_format: dict[str, Any] | None = None
    # A turn carried on after a restart (no inputs: they are stored): its calls still
    # waiting on other agents are collected first (see agent.parked).
    resume: bool = False
    # The history the turn reads and writes: the agent's default one (""), or a
    # conversation's (its id). Every history shares the agent's blocks.
    conversation_id: str = ""
    # Show a summary a step writes as an event and a summary message (never stored).
    compaction_messages: bool = False
    # The run's `invoke_agent` span (troupe.observability), told what the turn reads.
    span: "RunSpan | None" = None
    # Token streaming: told each piece of the model's answers as it comes (agent.token_stream).
    pieces: "PieceObserver | None" = None

    @property
    def history(self) -> History:
        return History(self.agent_id, self.conversation_id)


@dataclass
class TurnResult:
    rows: list[Message] = field(default_factory=list)
    stop_reason: StopReason = "end_turn"
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    steps: int = 0
    # True when the last step's transaction recorded the run's end (`Turn.records_end`).
    recorded: bool = False
    # The agent's turns are handed over to sleep-time agents (as read at the turn's start).
    sleeptime_group: bool = False

    def replies(self) -> list[str]:
        """What the agent said with send_message (or as a plain-text reply)."""
        return [r.content or "" for r in self.rows if r.message_type == "assistant_message"]
