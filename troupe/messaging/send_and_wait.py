"""send_message_to_agent_and_wait_for_reply, durable: the caller's step stores its call and
the target's run together (`start`); then the caller waits for the run (`collect`). If the
server dies in between, the resumed caller collects again: a target run that had finished
is read back, one that had not is carried on (by this process, or by whichever process
claims it first), so nothing runs twice (see agent.parked)."""

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.config import MessagingSettings
from troupe.messaging.chain_guard import chain_refusal
from troupe.messaging.replies import Reply, Target, outcome_of, stored_outcome
from troupe.messaging.wording import system_input
from troupe.observability.context import current_traceparent, current_tracestate
from troupe.runs.executor import RunExecutor
from troupe.runs.new_runs import new_runs
from troupe.runs.request import RunRequest
from troupe.schemas.cross_agent import delivered_text
from troupe.store import agents as agent_store
from troupe.store import chains
from troupe.store import runs as run_store
from troupe.store.inserts import insert_rows
from troupe.store.tables import RunRow
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import AgentWait

ENDED = frozenset({"completed", "failed", "cancelled"})


def waited_request(ctx: ToolCaller, message: str) -> RunRequest:
    """The request of a run the caller waits on: the message, and the chain of waiters."""
    text = delivered_text(
        sender_name=ctx.agent_name,
        sender_id=ctx.agent_id,
        message=message,
        receiver_tools=set(),  # unused: a waited-on message is answered by send_message
        waiting=True,
    )
    return RunRequest(inputs=[system_input(text, ctx.agent_id)], chain=(*ctx.chain, ctx.agent_id))


class SendAndWait:
    def __init__(self, executor: RunExecutor, settings: MessagingSettings) -> None:
        self.executor = executor
        self.settings = settings
        self.wait = AgentWait(start=self._start, collect=self._collect)
        # Runs this process recorded and will execute itself, by (caller's run, call id).
        self._fresh: dict[tuple[str, str], tuple[RunRow, Target]] = {}

    async def _start(
        self, session: AsyncSession, ctx: ToolCaller, arguments: dict[str, Any], call_id: str
    ) -> ToolOutcome | None:
        message, target_id = arguments.get("message"), str(arguments.get("other_agent_id", ""))
        if not isinstance(message, str) or not message.strip():
            return ToolOutcome.error("`message` must be non-empty text")
        name = (await agent_store.names_of_agents(session, [target_id])).get(target_id)
        if name is None:
            return ToolOutcome.error(f"there is no agent with id {target_id!r}")
        target = Target(target_id, name)
        refused = chain_refusal(
            (*ctx.chain, ctx.agent_id), target.id, target.name, self.settings.max_hops
        )
        if refused:
            return ToolOutcome.error(refused)
        (run,) = new_runs(
            [(target_id, waited_request(ctx, message))],
            background=False,
            trace_id=ctx.trace_id,
            parent_run_id=ctx.run_id or None,
            traceparent=current_traceparent(),  # the tool call's span: its parent
            tracestate=current_tracestate(),
        )
        run.reply_to_call, run.owner = call_id, self.executor.owner
        await insert_rows(session, [run])
        self._fresh[(ctx.run_id, call_id)] = (run, target)
        return None

    async def _collect(self, ctx: ToolCaller, call_id: str) -> ToolOutcome:
        fresh = self._fresh.pop((ctx.run_id, call_id), None)
        if fresh is not None:
            reply = await self._execute(ctx, *fresh, resume=False)
        else:
            reply = await self._carry_on(ctx, call_id)
        return ToolOutcome(reply.status, str(reply.entry))

    async def _execute(self, ctx: ToolCaller, run: RunRow, target: Target, resume: bool) -> Reply:
        """Run the target's turn and wait up to the reply timeout; a run still going then
        goes on, and the caller is told it timed out."""
        task = self.executor.spawn(self.executor.execute(run, resume=resume))
        timeout = self.settings.reply_timeout_s
        await asyncio.wait([task], timeout=timeout)
        return outcome_of(ctx, target, task, timeout)

    async def _carry_on(self, ctx: ToolCaller, call_id: str) -> Reply:
        """After a restart: the target's run as the store has it, carried on if unfinished."""
        async with self.executor.rt.db.write() as session:
            found = await chains.waited_on(session, ctx.run_id or None, call_id)
            if not found:
                return Reply("error", {"error": "the run this call waited on was deleted"})
            run = found[0]
            names = await agent_store.names_of_agents(session, [run.agent_id])
            target = Target(run.agent_id, names.get(run.agent_id, "(deleted agent)"))
            claimed = run.status == "running" and await chains.claim_orphan(
                session, run.id, run.heartbeat_at, self.executor.owner
            )
            begun = bool(await run_store.begun_runs(session, [run.id]))
        if claimed:
            return await self._execute(ctx, run, target, resume=begun)
        return await self._ended(ctx, run.id, target)

    async def _ended(self, ctx: ToolCaller, run_id: str, target: Target) -> Reply:
        """The reply of a run that ended, or that another worker is carrying on."""
        deadline = time.monotonic() + self.settings.reply_timeout_s
        pause = 0.05
        while True:
            async with self.executor.rt.db.read() as session:
                run = await run_store.get_run(session, run_id)
                if run.status in ENDED:
                    replies = await chains.replies(session, run_id)
                    return stored_outcome(ctx, target, run, replies)
            if time.monotonic() > deadline:
                return Reply.failed(target, f"no reply from {target.name} ({target.id}) in time")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)
