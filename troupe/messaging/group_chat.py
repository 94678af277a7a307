"""A group's turn (Letta's multi-agent groups): who speaks, in what order, and what each
speaker hears. Each speaker's turn is a run of the ordinary agent loop, under its agent's
lock, all in one trace, each run the child of the one before it, so the trace view draws
the exchange as it draws any cross-agent one.

- round_robin: the members speak in turn, `max_turns` turns (default: one each); each hears
  what was said since it last spoke.
- dynamic: before each turn the manager agent is asked who should speak next (it names a
  member); the chat ends after `max_turns` turns or when a speaker says the termination token.
- supervisor: the manager takes the message; its tool `send_message_to_all_agents_in_group`
  asks every member (troupe.messaging.cross_agent_tools) and it answers with what they said.
- sleeptime: the primary agent (the manager) takes the message; its sleep-time agents run
  afterwards in the background (troupe.messaging.sleeptime)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from troupe.agent.messages import Message
from troupe.agent.turn import InputMessage, TurnResult
from troupe.ids import new_id
from troupe.messaging.wording import group_chat_input, speaker_question
from troupe.runs.executor import RunExecutor
from troupe.runs.new_runs import new_runs
from troupe.runs.request import RunRequest
from troupe.schemas.stop_reasons import FINISHED_STOP_REASONS
from troupe.store import agents as agent_store
from troupe.store.groups import GroupBundle
from troupe.store.tables import RunRow

# Hears each run as it starts, then each of its steps' messages.
RunObserver = Callable[[RunRow, list[Message]], Awaitable[None]]


@dataclass
class GroupTurn:
    """The runs a group's turn made, in order, and what they produced together."""

    trace_id: str
    runs: list[RunRow] = field(default_factory=list)
    result: TurnResult = field(default_factory=TurnResult)

    def add(self, run: RunRow, result: TurnResult) -> None:
        self.runs.append(run)
        total = self.result
        total.rows.extend(result.rows)
        total.prompt_tokens += result.prompt_tokens
        total.completion_tokens += result.completion_tokens
        total.steps += result.steps
        total.stop_reason, total.error = result.stop_reason, result.error or total.error


class GroupChat:
    def __init__(self, executor: RunExecutor) -> None:
        self.executor = executor

    async def run(
        self,
        group: GroupBundle,
        request: RunRequest,
        observe: RunObserver | None = None,
        *,
        trace_id: str | None = None,
    ) -> GroupTurn:
        turn = GroupTurn(trace_id=trace_id or new_id("trace"))
        kind = group.group.manager_type
        if kind == "round_robin":
            await self._round_robin(group, request, turn, observe)
        elif kind == "dynamic":
            await self._dynamic(group, request, turn, observe)
        else:  # supervisor, sleeptime: the manager takes the message
            assert group.group.manager_agent_id is not None
            await self._speak(group, group.group.manager_agent_id, request, turn, observe)
        return turn

    async def _speak(
        self,
        group: GroupBundle,
        agent_id: str,
        request: RunRequest,
        turn: GroupTurn,
        observe: RunObserver | None,
    ) -> TurnResult:
        """One speaker's run, the child of the turn's previous run, recorded as the group's."""
        parent = turn.runs[-1].id if turn.runs else None
        (run,) = await self.executor.record(
            new_runs(
                [(agent_id, request)],
                background=False,
                trace_id=turn.trace_id,
                parent_run_id=parent,
            ),
            group_id=group.group.id,
        )

        async def observed(messages: list[Message]) -> None:
            if observe is not None:
                await observe(run, messages)

        result = await self.executor.execute(run, observed)
        turn.add(run, result)
        return result

    async def _member_turn(
        self,
        group: GroupBundle,
        chat: "_Chat",
        speaker: str,
        request: RunRequest,
        turn: GroupTurn,
        observe: RunObserver | None,
    ) -> TurnResult:
        """A member speaks, having heard what was said since it last spoke."""
        inputs = chat.unheard_by(speaker)
        result = await self._speak(group, speaker, _with_inputs(request, inputs), turn, observe)
        chat.spoke(speaker, result.replies())
        return result

    async def _round_robin(
        self,
        group: GroupBundle,
        request: RunRequest,
        turn: GroupTurn,
        observe: RunObserver | None,
    ) -> None:
        members = group.agent_ids
        chat = _Chat(await self._names(members), list(request.inputs))
        for i in range(group.group.max_turns or len(members)):
            speaker = members[i % len(members)]
            result = await self._member_turn(group, chat, speaker, request, turn, observe)
            if result.stop_reason not in (*FINISHED_STOP_REASONS, "max_steps"):
                return

    async def _dynamic(
        self,
        group: GroupBundle,
        request: RunRequest,
        turn: GroupTurn,
        observe: RunObserver | None,
    ) -> None:
        manager = group.group.manager_agent_id
        assert manager is not None
        members = [m for m in group.agent_ids if m != manager]
        chat = _Chat(await self._names(members), list(request.inputs))
        token = group.group.termination_token or ""
        speaker: str | None = None
        for _ in range(group.group.max_turns or len(members)):
            options = [m for m in members if m != speaker] or members
            question = speaker_question(options, chat.names, [*chat.history, *chat.new])
            choice = await self._speak(
                group, manager, _with_inputs(request, [question]), turn, observe
            )
            said = " ".join(choice.replies())
            speaker = _named(said, options, chat.names)
            finished = choice.stop_reason in FINISHED_STOP_REASONS
            if speaker is None or not finished:
                if speaker is None and finished and token not in said:
                    turn.result.stop_reason = "error"
                    turn.result.error = f"the manager named none of {options} to speak next"
                return
            result = await self._member_turn(group, chat, speaker, request, turn, observe)
            if result.stop_reason not in FINISHED_STOP_REASONS or (
                token and any(token in r for r in result.replies())
            ):
                return

    async def _names(self, agent_ids: list[str]) -> dict[str, str]:
        async with self.executor.rt.db.read() as session:
            names = await agent_store.names_of_agents(session, agent_ids)
        return {a: names.get(a, a) for a in agent_ids}


@dataclass
class _Chat:
    """A group chat so far: what was said, and how much of it each member has heard."""

    names: dict[str, str]
    new: list[InputMessage]  # said since the last speaker spoke (at first, the user's)
    history: list[InputMessage] = field(default_factory=list)
    heard: dict[str, int] = field(default_factory=dict)

    def unheard_by(self, speaker: str) -> list[InputMessage]:
        self.history.extend(self.new)
        self.new = []
        return self.history[self.heard.get(speaker, 0) :]

    def spoke(self, speaker: str, replies: list[str]) -> None:
        self.new = [group_chat_input(self.names[speaker], speaker, r) for r in replies]
        self.heard[speaker] = len(self.history) + len(self.new)


def _with_inputs(request: RunRequest, inputs: list[InputMessage]) -> RunRequest:
    return RunRequest(
        inputs=inputs,
        max_steps=request.max_steps,
        return_message_types=request.return_message_types,
    )


def _named(said: str, options: list[str], names: dict[str, str]) -> str | None:
    """The member the manager named: by id, else by name (the longest name that fits, so
    "Ann" does not win over "Anna")."""
    lowered = said.lower()
    for agent_id in options:
        if agent_id.lower() in lowered:
            return agent_id
    fitting = [a for a in options if names[a].lower() in lowered]
    return max(fitting, key=lambda a: len(names[a]), default=None)
