"""What the step loop needs from the rest of the system, in one object. Built by the
composition root (or a test) and handed in; the loop imports no web framework and no
global state."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from troupe.agent.history import HistoryWindows
from troupe.agent.offers import OfferCache
from troupe.agent.turn_start import TurnStarts
from troupe.llm.base import Model
from troupe.store import Database
from troupe.store.context_ids import WINDOW_ROWS
from troupe.store.step_reads import ToolShelf
from troupe.store.steps import StepStore
from troupe.store.tables import ToolRow
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import ToolRegistry

if TYPE_CHECKING:  # built by the composition root; the loop only calls it
    from troupe.observability.telemetry import Telemetry


class UserToolRunner(Protocol):
    """Runs a user tool's source in the sandbox on behalf of an agent."""

    async def run(
        self,
        caller: ToolCaller,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        args_schema: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        """`args_schema`: the tool's `args_json_schema`, whose models the tool runs with."""
        ...

    async def run_unbound(
        self,
        source_code: str,
        function_name: str,
        arguments: dict[str, Any],
        env_vars: dict[str, str],
        args_schema: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        """Run source on no agent's behalf (a client trying a tool out): no token."""
        ...


class ExternalToolRunner(Protocol):
    """Runs a tool that lives outside troupe (an MCP server's) on behalf of an agent."""

    async def run(
        self, caller: ToolCaller, tool: ToolRow, arguments: dict[str, Any]
    ) -> ToolOutcome: ...


@dataclass(frozen=True)
class LoopSettings:
    # Newest rows considered for the context window (what `message_ids` shows reads the same).
    history_rows: int = WINDOW_ROWS
    # Rows of all agents' windows kept between steps (see troupe.agent.history).
    cached_history_rows: int = 50_000
    context_fraction: float = 0.75  # share of the model's window the prompt may fill
    # Who summarises evicted history when an agent names no model ("": the agent's own),
    # and the share of the history budget kept in context after a summary.
    summary_model: str = ""
    summary_keep: float = 0.3


@dataclass
class LoopDeps:
    db: Database
    resolve_model: Callable[[str], Model]
    user_tools: UserToolRunner
    registry: ToolRegistry
    # Spans and metrics (troupe.observability): what the loop reports goes through it.
    telemetry: "Telemetry"
    settings: LoopSettings = LoopSettings()
    mcp_tools: ExternalToolRunner | None = None
    history: HistoryWindows = field(init=False)
    tools: ToolShelf = field(default_factory=ToolShelf)
    starts: TurnStarts = field(init=False)
    steps: StepStore = field(init=False)
    offers: OfferCache = field(default_factory=OfferCache)  # the tool specs steps offer

    def __post_init__(self) -> None:
        self.history = HistoryWindows(self.settings.history_rows, self.settings.cached_history_rows)
        self.starts = TurnStarts(self.db, self.tools, self.history)
        self.steps = StepStore(self.db)
