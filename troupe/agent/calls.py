"""The tool calls of one step: checked against the agent's tools, the rules and the tool's
schema (a bad call becomes an error result for the model, never a failed step), then run:
reading and waiting tools and user tools now, transactional tools later, inside the step's
transaction (see agent.loop)."""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.deps import LoopDeps
from troupe.agent.prompt import HEARTBEAT_PARAMETER
from troupe.llm.base import ToolCall
from troupe.schemas.tools import MCP_TOOL_TYPE
from troupe.store.tables import ToolRow
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import BuiltinTool

# Runs inside the step's transaction; None: the call waits on other agents' runs.
StepRunner = Callable[[AsyncSession, ToolCaller, dict[str, Any]], Awaitable[ToolOutcome | None]]

log = logging.getLogger(__name__)


@dataclass
class PlannedCall:
    """One tool call of a step, from the model's request to its outcome."""

    call: ToolCall
    builtin: BuiltinTool | None = None
    arguments: dict[str, Any] | None = None
    outcome: ToolOutcome | None = None
    heartbeat: bool = False
    fixed: bool = False  # every required argument came from a rule's prefilled `args`
    return_char_limit: int | None = None  # a user tool's: its return is cut to it

    def returned(self) -> str:
        """The outcome's text as the model and the client read it: a user tool's return
        longer than its `return_char_limit` is cut, with a note saying so."""
        assert self.outcome is not None
        text, limit = self.outcome.text, self.return_char_limit
        if limit is None or len(text) <= limit:
            return text
        return (
            f"{text[:limit]}... [NOTE: the return was cut to the tool's return_char_limit of "
            f"{limit} characters; it had {len(text)}]"
        )

    # Not run by the server now: it waits for a human's approval ("approval"), for the
    # client to run it ("client"), or for the answers to the step's other calls that wait
    # ("deferred"; see agent.approvals).
    awaits: str | None = None
    resumed: bool = False  # an answered call of an earlier step, its call already stored
    # Waiting on other agents' runs (recorded with this step): its result comes after the
    # step commits, or from the resumed turn after a restart (see agent.parked).
    parked: bool = False

    @property
    def asks(self) -> bool:
        """It waits for an answer of its own (an approval, or the client's result)."""
        return self.awaits in ("approval", "client")

    @property
    def is_reply(self) -> bool:
        return self.builtin is not None and self.builtin.is_reply

    def step_runner(self) -> StepRunner | None:
        """How to run it inside the step's transaction, if it is still to run there."""
        if self.outcome is not None or self.builtin is None or self.awaits:
            return None
        if self.builtin.waits is not None:
            return self._start_wait
        return self.builtin.run_in_step

    async def _start_wait(
        self, session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
    ) -> ToolOutcome | None:
        assert self.builtin is not None
        assert self.builtin.waits is not None
        outcome = await self.builtin.waits.start(session, caller, arguments, self.call.id)
        self.parked = outcome is None
        return outcome


def plan_call(
    deps: LoopDeps,
    call: ToolCall,
    tools: dict[str, ToolRow],
    allowed: list[str],
    prefilled: dict[str, Any],
) -> PlannedCall:
    item = PlannedCall(call, builtin=deps.registry.get(call.name))
    if call.name not in tools:
        available = ", ".join(sorted(tools)) or "none"
        item.outcome = ToolOutcome.error(
            f"there is no tool named {call.name!r}; your tools: {available}"
        )
        return item
    if call.name not in allowed:
        now = ", ".join(allowed) or "none"
        item.outcome = ToolOutcome.error(
            f"{call.name!r} may not be called now (tool rules); allowed now: {now}"
        )
        return item
    arguments, problem = parse_arguments(call.arguments)
    if arguments is None:
        item.outcome = ToolOutcome.error(problem or "the arguments must be a JSON object")
        return item
    item.heartbeat = bool(arguments.pop(HEARTBEAT_PARAMETER, False)) is True
    if prefilled:
        arguments.update(prefilled)
        required = (tools[call.name].json_schema.get("parameters") or {}).get("required", [])
        item.fixed = set(required) <= set(prefilled)
        # The stored call shows what ran: the model's arguments with the prefilled ones.
        item.call = ToolCall(call.id, call.name, json.dumps(arguments, ensure_ascii=False))
    accepted = item.builtin.accepts_also if item.builtin is not None else frozenset()
    problem = _check_arguments(tools[call.name].json_schema, arguments, accepted)
    if problem:
        item.outcome = ToolOutcome.error(problem)
        return item
    item.arguments = arguments
    if tools[call.name].tool_type == "custom":
        item.return_char_limit = tools[call.name].return_char_limit
    if item.is_reply and not isinstance(arguments.get("message"), str):
        item.outcome = ToolOutcome.error(f"{call.name} needs `message` as text")
    return item


def parse_arguments(text: str | None) -> tuple[dict[str, Any] | None, str | None]:
    try:
        arguments = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        return None, f"the arguments are not valid JSON ({exc.msg}); send a JSON object"
    if not isinstance(arguments, dict):
        return None, "the arguments must be a JSON object"
    return arguments, None


def _check_arguments(
    schema: dict[str, Any], arguments: dict[str, Any], accepted: frozenset[str] = frozenset()
) -> str | None:
    """Refuse a call missing a required argument or sending one the tool does not take
    (`accepted`: what an older version of a built-in took, taken still but not offered)."""
    parameters = schema.get("parameters") or {}
    known = set((parameters.get("properties") or {}).keys())
    missing = [p for p in parameters.get("required", []) if p not in arguments]
    unknown = [a for a in arguments if known and a not in known and a not in accepted]
    if missing:
        return f"missing required arguments: {', '.join(missing)}"
    if unknown:
        return f"unknown arguments: {', '.join(unknown)}; expected: {', '.join(sorted(known))}"
    return None


async def run_now(
    deps: LoopDeps, caller: ToolCaller, tools: dict[str, ToolRow], item: PlannedCall
) -> ToolOutcome:
    """Run a call that does not wait for the step's transaction."""
    name, arguments, builtin = item.call.name, item.arguments or {}, item.builtin
    if builtin is not None and builtin.run_reading is not None:
        try:
            async with deps.db.read() as session:
                return await builtin.run_reading(session, caller, arguments)
        except SQLAlchemyError:
            # The statement can be tens of KB: clients and the model get a short message.
            log.exception("built-in tool %s failed in the database", name)
            return ToolOutcome.error(f"{name} failed in the database; try a simpler call")
    if builtin is not None and builtin.run is not None:
        return await builtin.run(caller, arguments)
    tool = tools[name]
    if tool.tool_type == MCP_TOOL_TYPE and deps.mcp_tools is not None:
        return await deps.mcp_tools.run(caller, tool, arguments)
    if tool.tool_type != "custom":
        return ToolOutcome.error(f"{name!r} is not available on this server yet")
    return await deps.user_tools.run(
        caller, tool.source_code or "", name, arguments, tool.args_json_schema
    )


def runs_now(item: PlannedCall) -> bool:
    """Not yet decided, not the reply, and not run inside the step's transaction."""
    if item.outcome is not None or item.is_reply or item.awaits:
        return False
    return item.builtin is None or (item.builtin.run_in_step is None and item.builtin.waits is None)
