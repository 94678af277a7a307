"""Token streaming (Letta's `stream_tokens`): a step's messages shown piece by piece as the
model writes them, before the step is stored.

Each piece is a partial message in Letta's shape, with the id of the message the step
stores: the step's text (a `reasoning_message`, or an `assistant_message` when the agent has
no reply tool and the step is free to answer in plain text), the `message` argument of a
send_message call (an `assistant_message`, as Letta streamed it), and a tool call's
arguments (a `tool_call_message`). The stored messages are the step's as always; a stored
message takes the id its pieces had only when it is what they add up to (same type, same
text; a tool call's arguments the same JSON), else it keeps an id of its own and the stream
shows it whole after the step, as it shows tool returns and every message a model that does
not stream produced. Calls that wait for an approval or for the client are shown whole."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from troupe.agent.deps import LoopDeps
from troupe.agent.messages import Message
from troupe.agent.reply_text import ReplyText
from troupe.agent.step_messages import GROUPED
from troupe.agent.tool_rules import ToolRuleSolver
from troupe.agent.turn import Turn
from troupe.ids import new_id, otid_at
from troupe.llm.base import Delta, ModelRequest
from troupe.store.tables import utcnow


@dataclass(frozen=True)
class Piece:
    """A piece of one message: `text` is its content, reasoning, or arguments."""

    message_type: str  # reasoning_message, assistant_message or tool_call_message
    id: str
    otid: str
    run_id: str
    step_id: str
    name: str  # the agent's
    date: datetime
    text: str
    tool_call_id: str | None = None
    tool_name: str | None = None  # on a call's first piece


PieceObserver = Callable[[Piece], Awaitable[None]]


@dataclass
class _Streamed:
    """A message shown in pieces: its type, id and otid, and the text they added up to."""

    message_type: str
    id: str
    otid: str
    parts: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _Call:
    streamed: _Streamed | None  # None: shown whole after the step
    call_id: str
    reply: ReplyText | None = None  # a reply tool's: its `message` shown as the answer


@dataclass(frozen=True)
class StepPlan:
    """What a step's pieces are, decided before the model answers."""

    agent_name: str
    run_id: str
    step_id: str
    text_type: str  # what the step's text is shown as
    replies: frozenset[str]  # the reply tools offered (send_message)
    held: frozenset[str]  # tools whose calls wait for an approval or the client


def token_pieces(
    deps: LoopDeps,
    turn: Turn,
    solver: ToolRuleSolver,
    agent_name: str,
    allowed: list[str],
    request: ModelRequest,
    step_id: str,
    before: list[Message],
) -> "TokenPieces":
    """How a step's answer is shown as it streams (`before`: the turn's messages so far). A
    step that may answer in plain text, of an agent with no reply tool, shows its text as
    the answer; any other as its reasoning (a call follows it)."""
    assert turn.pieces is not None
    replies = frozenset(
        name for name in allowed if (tool := deps.registry.get(name)) is not None and tool.is_reply
    )
    held = {name for name in allowed if solver.needs_approval(name)}
    held.update(spec.name for spec in turn.client_tools)
    plain = request.tool_choice == "auto" and not replies
    plan = StepPlan(
        agent_name=agent_name,
        run_id=turn.run_id,
        step_id=step_id,
        text_type="assistant_message" if plain else "reasoning_message",
        replies=replies,
        held=frozenset(held),
    )
    return TokenPieces(turn.pieces, plan, before)


class TokenPieces:
    """One step's pieces, in the order the model writes them."""

    def __init__(self, observe: PieceObserver, plan: StepPlan, before: list[Message]) -> None:
        self.observe = observe
        self.plan = plan
        self.index, self.last_type = _numbering(before)
        self.text: _Streamed | None = None
        self.had = {"reasoning": False, "content": False}
        self.calls: dict[int, _Call] = {}

    async def take(self, delta: Delta) -> None:
        """A delta of the model's answer (`llm.base.DeltaSink`)."""
        if delta.kind == "arguments":
            await self._arguments(delta)
            return
        text = delta.text
        if self.text is None:
            kind = "reasoning_message" if delta.kind == "reasoning" else self.plan.text_type
            self.text = self._open(kind)
        if delta.kind == "content" and not self.had["content"] and self.had["reasoning"]:
            text = "\n" + text  # the stored text joins reasoning and content so
        self.had[delta.kind] = True
        await self._show(self.text, text)

    async def _arguments(self, delta: Delta) -> None:
        call = self.calls.get(delta.call)
        if call is None:
            name = delta.name or ""
            call = self.calls[delta.call] = _Call(None, delta.call_id or "")
            if name in self.plan.replies:
                call.streamed, call.reply = self._open("assistant_message"), ReplyText()
            elif name not in self.plan.held:
                call.streamed = self._open("tool_call_message")
                await self._show(call.streamed, delta.text, call.call_id, name)
                return
        if call.streamed is None:
            return
        if call.reply is not None:
            text = call.reply.feed(delta.text)
            if text:
                await self._show(call.streamed, text)
        elif delta.text:
            await self._show(call.streamed, delta.text, call.call_id)

    def _open(self, message_type: str) -> _Streamed:
        """A new message, numbered as `step_messages.number_messages` will number it."""
        if not (message_type in GROUPED and message_type == self.last_type):
            self.index += 1
        self.last_type = message_type
        return _Streamed(message_type, new_id("message"), otid_at(self.plan.run_id, self.index))

    async def _show(
        self,
        streamed: _Streamed,
        text: str,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
    ) -> None:
        streamed.parts.append(text)
        plan = self.plan
        await self.observe(
            Piece(
                streamed.message_type,
                streamed.id,
                streamed.otid,
                plan.run_id,
                plan.step_id,
                plan.agent_name,
                utcnow(),
                text,
                tool_call_id,
                tool_name,
            )
        )

    def name_messages(self, produced: list[Message]) -> None:
        """Give each stored message the id of its pieces, where it is what they add up to."""
        by_call = {call.call_id: call.streamed for call in self.calls.values() if call.streamed}
        for message in produced:
            kind = message.message_type
            if kind in ("reasoning_message", "assistant_message") and not message.tool_call_id:
                streamed = self.text
                same = streamed is not None and streamed.text() == (message.content or "")
            elif kind in ("assistant_message", "tool_call_message"):
                streamed = by_call.get(message.tool_call_id or "")
                same = streamed is not None and (
                    streamed.text() == (message.content or "")
                    if kind == "assistant_message"
                    else _same_arguments(streamed.text(), message.tool_arguments or "")
                )
            else:
                continue
            if same and streamed is not None and streamed.message_type == kind:
                message.id = streamed.id


def _same_arguments(streamed: str, stored: str) -> bool:
    """The same text, or the same JSON (Anthropic's arguments are stored as `json.dumps`
    writes the parsed input, its stream sends them as the model wrote them)."""
    if streamed == stored:
        return True
    try:
        return bool(json.loads(streamed or "{}") == json.loads(stored or "{}"))
    except json.JSONDecodeError:
        return False


def _numbering(before: list[Message]) -> tuple[int, str | None]:
    """The index of the turn's last shown message and its type (`number_messages`' count)."""
    index, previous = -1, None
    for message in before:
        if message.is_input:
            continue
        if not (message.message_type in GROUPED and message.message_type == previous):
            index += 1
        previous = message.message_type
    return index, previous
