"""What hears of turns as they end (the sleep-time hand-over is one): see RunExecutor."""

from typing import Protocol

from troupe.agent.turn import TurnResult
from troupe.store.tables import RunRow


class TurnListener(Protocol):
    """Hears of each turn that ended that it `wants` (asked at once: others cost no task),
    after the fact, in a task of its own: what it does never delays the turn's answer. The
    task is spawned inside the run's `invoke_agent` span, which is current in it (the
    sleep-time hand-over stores its `traceparent`)."""

    def wants(self, run: RunRow, result: TurnResult) -> bool: ...
    async def after_turn(self, run: RunRow, result: TurnResult) -> None: ...
