"""What the step loop needs from the rest of the system, in one object. Built by the server
(or a test) and handed in; the loop imports no web framework and no global state."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from troupe.agent.builtins import TRANSACTIONAL_TOOLS, TransactionalTool
from troupe.agent.history import HistoryWindows
from troupe.agent.turn_context import TurnContexts
from troupe.llm.base import Model
from troupe.store import Database
from troupe.store.turns import ToolShelf
from troupe.tools.calls import ToolCaller, ToolOutcome


class CrossAgentTools(Protocol):
    """The multi-agent tools (see troupe.messaging). Some write to the store and run in the
    step's transaction (`transactional`); the others wait on other agents, before it."""

    @property
    def transactional(self) -> dict[str, TransactionalTool]: ...

    def handles(self, tool_name: str) -> bool: ...

    def ends_turn(self, tool_name: str) -> bool: ...

    async def call(
        self, ctx: ToolCaller, tool_name: str, arguments: dict[str, Any]
    ) -> ToolOutcome: ...


class UserToolRunner(Protocol):
    """Runs a user tool's source in the sandbox on behalf of an agent."""

    async def run(
        self, ctx: ToolCaller, source_code: str, function_name: str, arguments: dict[str, Any]
    ) -> ToolOutcome: ...


@dataclass(frozen=True)
class LoopSettings:
    history_rows: int = 200  # newest rows considered for the context window
    # Rows of all agents' windows kept between steps (see troupe.agent.history).
    cached_history_rows: int = 50_000
    context_fraction: float = 0.75  # share of the model's window the prompt may fill


@dataclass
class AgentRuntime:
    db: Database
    resolve_model: Callable[[str], Model]
    user_tools: UserToolRunner
    cross_agent: CrossAgentTools | None = None
    settings: LoopSettings = LoopSettings()
    history: HistoryWindows = field(init=False)
    tools: ToolShelf = field(default_factory=ToolShelf)
    contexts: TurnContexts = field(init=False)

    def __post_init__(self) -> None:
        self.history = HistoryWindows(self.settings.history_rows, self.settings.cached_history_rows)
        self.contexts = TurnContexts(self.db, self.tools, self.history)

    def transactional_tools(self) -> dict[str, TransactionalTool]:
        if self.cross_agent is None:
            return TRANSACTIONAL_TOOLS
        return {**TRANSACTIONAL_TOOLS, **self.cross_agent.transactional}
