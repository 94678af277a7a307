"""A2A tasks are troupe runs: a task's id is its run's id, its state the run's status, its
history the message it was sent and what the agent said, its artifact the agent's replies.

What links a call across servers rides in the message's metadata under `troupe`: the
caller's trace, its run (the parent of the run it causes) and the chain of agents waiting on
the answer, so the hop limit and the loop guard of cross-agent calls hold across servers."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from a2a.types.a2a_pb2 import (
    ROLE_AGENT,
    ROLE_USER,
    TASK_STATE_CANCELED,
    TASK_STATE_COMPLETED,
    TASK_STATE_FAILED,
    TASK_STATE_INPUT_REQUIRED,
    TASK_STATE_SUBMITTED,
    TASK_STATE_UNSPECIFIED,
    TASK_STATE_WORKING,
    Artifact,
    Message,
    Part,
    Task,
    TaskState,
    TaskStatus,
)
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from troupe.runs.request import RunRequest
from troupe.store.tables import RunRow

LINK_KEY = "troupe"  # the metadata key of a message's link to the trace that sent it
REPLY_ARTIFACT = "reply"
MAX_CHAIN = 64  # agents in a chain a message may name (each server holds it to its own limit)
_STATES = {
    "created": TASK_STATE_SUBMITTED,
    "running": TASK_STATE_WORKING,
    "completed": TASK_STATE_COMPLETED,
    "failed": TASK_STATE_FAILED,
    "cancelled": TASK_STATE_CANCELED,
}


class Said(Protocol):
    """A message of a run, stored (MessageRow) or just produced (agent.messages.Message)."""

    message_type: str
    content: str | None


@dataclass(frozen=True)
class Link:
    """Where an A2A message comes from in troupe terms (all empty from a foreign client)."""

    trace_id: str | None = None
    parent_run_id: str | None = None
    chain: tuple[str, ...] = ()

    def to_metadata(self) -> dict[str, Any]:
        return {
            LINK_KEY: {
                "trace_id": self.trace_id,
                "parent_run_id": self.parent_run_id,
                "chain": list(self.chain),
            }
        }

    @classmethod
    def of(cls, message: Message) -> "Link":
        """The message's link; ValueError when it is malformed (ids are at most 64
        characters, as troupe's are, and a chain holds at most MAX_CHAIN of them)."""
        found = MessageToDict(message.metadata).get(LINK_KEY) if message.metadata else None
        if found is None:
            return cls()
        if not isinstance(found, dict):
            raise ValueError(f"metadata.{LINK_KEY} must be an object")
        chain = found.get("chain") or []
        ids = [found.get("trace_id"), found.get("parent_run_id"), *chain]
        if not isinstance(chain, list) or len(chain) > MAX_CHAIN:
            raise ValueError(f"metadata.{LINK_KEY}.chain is a list of at most {MAX_CHAIN} ids")
        if any(i is not None and (not isinstance(i, str) or not 0 < len(i) <= 64) for i in ids):
            raise ValueError(f"metadata.{LINK_KEY} holds ids: text of 1 to 64 characters")
        return cls(
            trace_id=found.get("trace_id"),
            parent_run_id=found.get("parent_run_id"),
            chain=tuple(chain),
        )


def task_state(run: RunRow) -> TaskState:
    if run.stop_reason == "requires_approval":  # a human answers its tool call first
        return TASK_STATE_INPUT_REQUIRED
    return _STATES.get(run.status, TASK_STATE_UNSPECIFIED)


def context_id(run: RunRow) -> str:
    """The task's context: the conversation it ran in; else the client's, kept with the run;
    else the agent's (its default history is one continuous context)."""
    a2a = (run.metadata_ or {}).get("a2a") or {}
    return str(run.conversation_id or a2a.get("context_id") or run.agent_id)


def replies(messages: Sequence[Said]) -> list[str]:
    return [m.content or "" for m in messages if m.message_type == "assistant_message"]


def agent_message(run: RunRow, text: str, index: int) -> Message:
    return Message(
        message_id=f"{run.id}-{index}",
        context_id=context_id(run),
        task_id=run.id,
        role=ROLE_AGENT,
        parts=[Part(text=text)],
    )


def reply_artifact(texts: Sequence[str]) -> Artifact:
    return Artifact(
        artifact_id=REPLY_ARTIFACT, name=REPLY_ARTIFACT, parts=[Part(text=t) for t in texts]
    )


def status_of(run: RunRow, said: Sequence[str]) -> TaskStatus:
    """The run's state, with the agent's last reply (or why it failed) as its message."""
    status = TaskStatus(state=task_state(run))
    at = run.completed_at or run.started_at or run.created_at
    if at is not None:
        status.timestamp.CopyFrom(_timestamp(at))
    if run.error:
        status.message.CopyFrom(agent_message(run, run.error, len(said)))
    elif said:
        status.message.CopyFrom(agent_message(run, said[-1], len(said) - 1))
    return status


def task_of(run: RunRow, messages: Sequence[Said], history_length: int | None = None) -> Task:
    said = replies(messages)
    asked = [
        Message(
            message_id=f"{run.id}-in-{i}",
            context_id=context_id(run),
            task_id=run.id,
            role=ROLE_USER,
            parts=[Part(text=m.text)],
        )
        for i, m in enumerate(RunRequest.from_json(run.request).inputs)
    ]
    history = asked + [agent_message(run, text, i) for i, text in enumerate(said)]
    if history_length is not None:
        history = history[-history_length:] if history_length > 0 else []
    task = Task(
        id=run.id,
        context_id=context_id(run),
        status=status_of(run, said),
        history=history,
        artifacts=[reply_artifact(said)] if said else [],
    )
    task.metadata.update({"troupe_run_id": run.id, "troupe_trace_id": run.trace_id or ""})
    return task


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp
