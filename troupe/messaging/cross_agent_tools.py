"""The cross-agent tools: async send (through the mailbox), send-and-wait, and broadcast to
agents by tags, as records of the tool registry. Synchronous calls carry the chain of agents
waiting on them, so a call that would wait on an agent already waiting in the chain is
refused at once instead of hanging."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.config import MessagingSettings
from troupe.errors import NotFound
from troupe.messaging import declarations
from troupe.messaging.chain_guard import chain_refusal
from troupe.messaging.replies import Reply, Target, outcome_of
from troupe.messaging.send_and_wait import SendAndWait, waited_request
from troupe.observability.context import current_traceparent, current_tracestate
from troupe.runs.executor import RunExecutor
from troupe.runs.new_runs import new_runs
from troupe.store import agents as agent_store
from troupe.store import deliveries
from troupe.store import groups as group_store
from troupe.store.tables import RunRow
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import RunBefore, ToolRegistry, declare

TOOL_TYPE = "letta_multi_agent_core"
NO_MESSAGE = ToolOutcome.error("`message` must be non-empty text")
# A tool that waits on other agents, given its validated `message` with all its arguments.
_Sender = Callable[[ToolCaller, str, dict[str, Any]], Awaitable[ToolOutcome]]


class CrossAgentTools:
    def __init__(self, executor: RunExecutor, settings: MessagingSettings) -> None:
        self.executor = executor
        self.settings = settings
        self.send_and_wait = SendAndWait(executor, settings)

    def register(self, registry: ToolRegistry) -> None:
        """Add the tools. `include_multi_agent_tools` attaches the first four: Letta's final
        set (wait for a reply, the tag broadcast, the async send) and the all-tags broadcast
        of its earlier set, which agents made before still expect (the supervisor's tool
        goes to a supervisor group's manager alone)."""
        records: list[tuple[Callable[..., Any], dict[str, Any]]] = [
            (
                declarations.send_message_to_agent_async,
                {"run_in_step": self._send_async, "ends_turn": True, "default_set": "multi_agent"},
            ),
            (
                declarations.send_message_to_agent_and_wait_for_reply,
                {"waits": self.send_and_wait.wait, "default_set": "multi_agent"},
            ),
            (
                declarations.send_message_to_agents_matching_all_tags,
                {
                    "run": _needing_message(self._broadcast_to_all_tags),
                    "default_set": "multi_agent",
                },
            ),
            (
                declarations.send_message_to_agents_matching_tags,
                {"run": _needing_message(self._broadcast_to_tags), "default_set": "multi_agent"},
            ),
            (
                declarations.send_message_to_all_agents_in_group,
                {"run": _needing_message(self._broadcast_to_group)},
            ),
        ]
        for declaration, how in records:
            registry.register(declare(declaration, TOOL_TYPE, **how))

    # -- async send: one mailbox row, written in the sender's step transaction --------------

    async def _send_async(
        self, session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any]
    ) -> ToolOutcome:
        message, target_id = message_argument(arguments), str(arguments.get("other_agent_id", ""))
        if message is None:
            return NO_MESSAGE
        if target_id == ctx.agent_id:
            return ToolOutcome.error("you cannot send a message to yourself")
        target_name = (await agent_store.names_of_agents(session, [target_id])).get(target_id)
        if target_name is None:
            return ToolOutcome.error(f"there is no agent with id {target_id!r}")
        # The row commits with the sender's step or not at all, so it exists exactly once.
        await deliveries.enqueue_message(
            session,
            target_agent_id=target_id,
            sender_agent_id=ctx.agent_id,
            sender_run_id=ctx.run_id,
            trace_id=ctx.trace_id,
            message=message,
            traceparent=current_traceparent(),
            tracestate=current_tracestate(),
        )
        return ToolOutcome.ok(
            f"Message queued for {target_name} ({target_id}); it will be delivered."
        )

    async def _create_runs(
        self, ctx: ToolCaller, targets: list[Target], message: str, group_id: str | None = None
    ) -> list[RunRow]:
        """The targets' runs of the message, waited on by this turn, in one transaction."""
        request = waited_request(ctx, message)
        runs = new_runs(
            [(target.id, request) for target in targets],
            background=False,
            trace_id=ctx.trace_id,
            parent_run_id=ctx.run_id,
            traceparent=current_traceparent(),  # the tool call's span: their parent
            tracestate=current_tracestate(),
        )
        return await self.executor.record(runs, group_id=group_id)

    async def _replies(
        self, ctx: ToolCaller, targets: list[Target], runs: list[RunRow]
    ) -> list[Reply]:
        """Execute the targets' runs, all at once, and wait up to the reply timeout for
        them (they start together, so one wait is each one's timeout). A run still going
        then goes on; its target's reply is a timeout error here."""
        executor = self.executor
        tasks = [executor.spawn(executor.execute(run)) for run in runs]
        timeout = self.settings.reply_timeout_s
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        return [outcome_of(ctx, t, task, timeout) for t, task in zip(targets, tasks, strict=True)]

    def _refusal(self, chain: tuple[str, ...], target: Target) -> str | None:
        return chain_refusal(chain, target.id, target.name, self.settings.max_hops)

    # -- broadcast ------------------------------------------------------------------------------

    async def _broadcast_to_all_tags(
        self, ctx: ToolCaller, message: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        return await self._broadcast(ctx, message, _tags(arguments.get("tags")), [])

    async def _broadcast_to_tags(
        self, ctx: ToolCaller, message: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        match_all, match_some = (
            _tags(arguments.get("match_all")),
            _tags(arguments.get("match_some")),
        )
        return await self._broadcast(ctx, message, match_all, match_some)

    async def _broadcast_to_group(
        self, ctx: ToolCaller, message: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        """The supervisor's tool: every member of the group it manages, as one broadcast
        whose runs are the group's too."""
        async with self.executor.rt.db.read() as session:
            group = await group_store.supervised_group_of(session, ctx.agent_id)
            names = await agent_store.names_of_agents(session, group.agent_ids if group else [])
        if group is None:
            return ToolOutcome.error("you do not supervise a group")
        targets = [
            Target(agent_id, names[agent_id])
            for agent_id in group.agent_ids
            if agent_id in names and agent_id != ctx.agent_id
        ]
        if not targets:
            return ToolOutcome.error("the group you supervise has no other agents")
        return await self._send_to(ctx, message, targets, group.group.id)

    async def _broadcast(
        self, ctx: ToolCaller, message: str, match_all: list[str], match_some: list[str]
    ) -> ToolOutcome:
        if not match_all and not match_some:
            return ToolOutcome.error("give at least one tag")
        targets = [t for t in await self._tagged(match_all, match_some) if t.id != ctx.agent_id]
        if not targets:
            return ToolOutcome.error(f"no agent has the tags {match_all + match_some}")
        return await self._send_to(ctx, message, targets)

    async def _send_to(
        self, ctx: ToolCaller, message: str, targets: list[Target], group_id: str | None = None
    ) -> ToolOutcome:
        chain = (*ctx.chain, ctx.agent_id)
        outcomes: dict[str, Reply] = {}
        for target in targets:
            refused = self._refusal(chain, target)
            if refused:
                outcomes[target.id] = Reply.failed(target, refused)
        # In waves of `broadcast_concurrency`, each wave's runs recorded in one transaction
        # right before they start (a run recorded as running must be running).
        waiting = [t for t in targets if t.id not in outcomes]
        wave = self.settings.broadcast_concurrency
        for start in range(0, len(waiting), wave):
            batch = waiting[start : start + wave]
            try:
                runs = await self._create_runs(ctx, batch, message, group_id)
            except NotFound:  # one was deleted since the lookup: leave it out
                present = await self._existing([t.id for t in batch])
                for gone in (t for t in batch if t.id not in present):
                    outcomes[gone.id] = Reply.failed(gone, f"{gone.name} ({gone.id}) was deleted")
                batch = [t for t in batch if t.id in present]
                runs = await self._create_runs(ctx, batch, message, group_id) if batch else []
            replies = await self._replies(ctx, batch, runs)
            outcomes.update((t.id, o) for t, o in zip(batch, replies, strict=True))
        # Letta's answer: the Python text of the list of each target's entry, in order.
        return ToolOutcome.ok(str([outcomes[target.id].entry for target in targets]))

    # -- lookups ---------------------------------------------------------------------------

    async def _target(self, agent_id: str) -> Target | None:
        async with self.executor.rt.db.read() as session:
            name = (await agent_store.names_of_agents(session, [agent_id])).get(agent_id)
        return Target(agent_id, name) if name is not None else None

    async def _existing(self, agent_ids: list[str]) -> set[str]:
        async with self.executor.rt.db.read() as session:
            return set(await agent_store.names_of_agents(session, agent_ids))

    async def _tagged(self, match_all: list[str], match_some: list[str]) -> list[Target]:
        async with self.executor.rt.db.read() as session:
            found = await agent_store.agents_matching_tags(session, match_all, match_some)
        return [Target(agent_id, name) for agent_id, name in found]


def message_argument(arguments: dict[str, Any]) -> str | None:
    message = arguments.get("message")
    return message if isinstance(message, str) and message.strip() else None


def _needing_message(send: _Sender) -> RunBefore:
    async def run(ctx: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
        message = message_argument(arguments)
        return NO_MESSAGE if message is None else await send(ctx, message, arguments)

    return run


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return list(dict.fromkeys(str(v) for v in value if str(v)))
    return []
