"""The one registry of built-in tools. Each built-in tool is ONE record: what the model sees
(derived from a declared Python signature and docstring, by the same `derive_tool` user
tools go through), what runs, and how the step loop treats it. The core tools register at
start-up; the cross-agent tools (troupe.messaging) register into the same registry then."""

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.schema import derive_tool

# Run before the step's transaction: waits on other agents (no session), or reads (in a
# read-only session of their own).
RunBefore = Callable[[ToolCaller, dict[str, Any]], Awaitable[ToolOutcome]]
RunReading = Callable[[AsyncSession, ToolCaller, dict[str, Any]], Awaitable[ToolOutcome]]
# Runs inside the step's write transaction: its effect commits with the step or not at all.
RunInStep = Callable[[AsyncSession, ToolCaller, dict[str, Any]], Awaitable[ToolOutcome]]
# Waits on other agents' runs, durably (see `AgentWait`).
StartWait = Callable[[AsyncSession, ToolCaller, dict[str, Any], str], Awaitable[ToolOutcome | None]]
CollectWait = Callable[[ToolCaller, str], Awaitable[ToolOutcome]]
# Letta's sets of tools an agent gets by default (`include_base_tools`,
# `include_multi_agent_tools`).
DefaultSet = Literal["base", "multi_agent"]


@dataclass(frozen=True)
class AgentWait:
    """A call answered by other agents' runs, which a crash must not cut. `start` runs inside
    the step's transaction (given the call's id): it records the runs the call waits on, so
    they commit with the call or not at all, and returns None; or it returns the outcome at
    once (a refusal). After the step commits, `collect` (given the call's id) waits for those
    runs, running them if nobody is, and gives the call's outcome. After a restart the
    resumed turn calls `collect` again for a call that has no result yet."""

    start: StartWait
    collect: CollectWait


@dataclass(frozen=True)
class BuiltinTool:
    name: str
    tool_type: str  # Letta's tool_type: letta_core, letta_memory_core, ...
    description: str
    source_code: str  # the declaration, as the ADE and GET /v1/tools show it
    json_schema: dict[str, Any]
    run: RunBefore | None = None
    run_reading: RunReading | None = None
    run_in_step: RunInStep | None = None
    waits: AgentWait | None = None
    is_reply: bool = False  # send_message: the call IS the answer; nothing runs
    ends_turn: bool = False  # a successful call ends the turn
    heartbeat: bool = True  # offered the `request_heartbeat` flag (pointless if it ends the turn)
    # The `label` argument names one of the agent's writable blocks (offered as an enum).
    edits_block: bool = False
    default_set: DefaultSet | None = None
    # Arguments an older version of the tool took, no longer offered but still accepted (and
    # read by its code), so a stored agent, prompt or fine-tune that sends them still works.
    accepts_also: frozenset[str] = frozenset()


def declare(
    declaration: Callable[..., Any],
    tool_type: str,
    *,
    run: RunBefore | None = None,
    run_reading: RunReading | None = None,
    run_in_step: RunInStep | None = None,
    waits: AgentWait | None = None,
    is_reply: bool = False,
    ends_turn: bool = False,
    edits_block: bool = False,
    default_set: DefaultSet | None = None,
    accepts_also: frozenset[str] = frozenset(),
) -> BuiltinTool:
    """A record from a declared function (its signature and docstring are the schema)."""
    source = inspect.getsource(declaration)
    derived = derive_tool(source)
    return BuiltinTool(
        name=derived.name,
        tool_type=tool_type,
        description=derived.description,
        source_code=source,
        json_schema=derived.json_schema,
        run=run,
        run_reading=run_reading,
        run_in_step=run_in_step,
        waits=waits,
        is_reply=is_reply,
        ends_turn=ends_turn or is_reply,
        heartbeat=not (ends_turn or is_reply),
        edits_block=edits_block,
        default_set=default_set,
        accepts_also=accepts_also,
    )


class ToolRegistry:
    def __init__(self, tools: list[BuiltinTool] | None = None) -> None:
        self._tools: dict[str, BuiltinTool] = {}
        for tool in tools or []:
            self.register(tool)

    def register(self, tool: BuiltinTool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"built-in tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool

    def get(self, name: str) -> BuiltinTool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        # Tools are only ever added (never replaced or removed), so the count tells whether
        # a name looked up before may resolve differently now (see agent.offers).
        return len(self._tools)

    def __iter__(self) -> Iterator[BuiltinTool]:
        return iter(self._tools.values())

    def default_names(self, default_set: DefaultSet) -> list[str]:
        """The tools of one default set, in registration order."""
        return [t.name for t in self._tools.values() if t.default_set == default_set]
