"""What a run was asked to do: the one typed form of `RunRow.request`, from the route (or
the mailbox, or a waiting agent) that creates the run to the executor that carries it out.

Stored as JSON under the same keys it always had, so rows written before this type existed
read back unchanged."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from troupe.agent.turn import InputMessage
from troupe.errors import InvalidInput
from troupe.llm.base import ToolSpec
from troupe.schemas.messages import DEFAULT_MAX_STEPS, MessageCreate


@dataclass(frozen=True)
class RunRequest:
    inputs: list[InputMessage] = field(default_factory=list)
    max_steps: int = DEFAULT_MAX_STEPS
    # Agents waiting, synchronously, on this run's answer (outermost first): the loop guard.
    chain: tuple[str, ...] = ()
    # Executed by whichever worker claims it, not by the request that made it.
    background: bool = False
    # The mailbox delivery this run processes, if it is one.
    delivery_id: str | None = None
    # Tools the client runs itself, offered for this run only.
    client_tools: tuple[ToolSpec, ...] = ()
    # The message types the client wants to read back (Letta's include_return_message_types).
    return_message_types: tuple[str, ...] | None = None
    # This request's model and response format (`override_model`, `response_format`).
    model: str | None = None
    response_format: dict[str, Any] | None = None
    # Show a summary the turn writes (Letta's include_compaction_messages).
    compaction_messages: bool = False
    # The W3C trace context of the span that asked for this run (a request's, a tool
    # call's): its `invoke_agent` span is that span's child, whichever process runs it.
    traceparent: str | None = None
    tracestate: str | None = None  # that span's W3C `tracestate`, when it has one

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "inputs": [_plain(i) for i in self.inputs],
            "max_steps": self.max_steps,
            "chain": list(self.chain),
            "background": self.background,
        }
        if self.delivery_id is not None:
            stored["delivery_id"] = self.delivery_id
        if self.client_tools:
            stored["client_tools"] = [_plain(t) for t in self.client_tools]
        if self.return_message_types is not None:
            stored["return_message_types"] = list(self.return_message_types)
        if self.model is not None:
            stored["model"] = self.model
        if self.response_format is not None:
            stored["response_format"] = self.response_format
        if self.compaction_messages:
            stored["include_compaction_messages"] = True
        if self.traceparent is not None:
            stored["traceparent"] = self.traceparent
        if self.tracestate is not None:
            stored["tracestate"] = self.tracestate
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> "RunRequest":
        return cls(
            inputs=[InputMessage(**m) for m in stored.get("inputs", [])],
            max_steps=int(stored.get("max_steps", DEFAULT_MAX_STEPS)),
            chain=tuple(stored.get("chain", ())),
            background=bool(stored.get("background", False)),
            delivery_id=stored.get("delivery_id") or None,
            return_message_types=_optional_tuple(stored.get("return_message_types")),
            model=stored.get("model") or None,
            response_format=stored.get("response_format") or None,
            compaction_messages=bool(stored.get("include_compaction_messages", False)),
            traceparent=stored.get("traceparent") or None,
            tracestate=stored.get("tracestate") or None,
            client_tools=tuple(ToolSpec(**t) for t in stored.get("client_tools", ())),
        )


def _plain(item: InputMessage | ToolSpec) -> dict[str, Any]:
    """A flat dataclass of ours as the JSON object of its fields (what `asdict` gives, without
    its deep copy: the values are JSON already and nothing changes them)."""
    return dict(vars(item))


def _optional_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def request_for(
    messages: Sequence[MessageCreate],
    max_steps: int,
    return_message_types: Sequence[str] | None = None,
) -> RunRequest:
    """A run of messages as a client sends them (to the agent now, or on a schedule)."""
    if not messages:
        raise InvalidInput("send `messages` (a list of {role, content}) or `input` (text)")
    inputs = [
        InputMessage(
            role=m.role, text=m.text(), name=m.name, otid=m.otid, images=m.images() or None
        )
        for m in messages
    ]
    if any(not i.text.strip() and not i.images for i in inputs):
        raise InvalidInput("a message's content cannot be empty")
    return RunRequest(
        inputs=inputs,
        max_steps=max_steps,
        return_message_types=_optional_tuple(return_message_types),
    )
