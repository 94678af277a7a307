"""A tool call as every tool sees it: who calls (`ToolCaller`) and what came of it
(`ToolOutcome`). Built-in, cross-agent and user tools all speak these two types."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ToolOutcome:
    status: Literal["success", "error"]
    text: str
    stdout: str | None = None
    stderr: str | None = None

    @classmethod
    def ok(cls, text: str) -> "ToolOutcome":
        return cls("success", text)

    @classmethod
    def error(cls, text: str) -> "ToolOutcome":
        return cls("error", text)


@dataclass(frozen=True)
class ToolCaller:
    """The agent turn on whose behalf a tool runs."""

    agent_id: str
    agent_name: str
    run_id: str
    trace_id: str
    # Agents waiting, synchronously, on this turn's answer (outermost first): the loop guard.
    chain: tuple[str, ...] = ()
