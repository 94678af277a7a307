"""The model request of one step: the system prompt with the memory blocks as stored now,
the history window with the step's pending input, a nudge if a rule demands one, and the
tools the rules allow now."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from troupe.agent.deps import LoopDeps
from troupe.agent.file_prompt import render_directories
from troupe.agent.history import Window
from troupe.agent.messages import Message
from troupe.agent.offers import tool_chars
from troupe.agent.prompt import render_system_prompt
from troupe.agent.tool_rules import ToolRuleSolver
from troupe.llm.base import ChatMessage, ModelRequest, ToolSpec
from troupe.store import agent_files, step_reads
from troupe.store.agent_files import PromptFolder
from troupe.store.step_reads import AgentProfile, PromptBlock
from troupe.store.tables import ToolRow

DEFAULT_CONTEXT_WINDOW = 8192
MIN_HISTORY_TOKENS = 256


@dataclass(frozen=True)
class Snapshot:
    """What a step compiles from: the agent's blocks and newest history, read together."""

    blocks: list[PromptBlock]
    history: Window
    folders: Sequence[PromptFolder] = ()  # read only for agents with the file tools


async def read_snapshot(
    deps: LoopDeps, agent_id: str, window: Window, *, with_files: bool = False
) -> Snapshot:
    """Blocks are read again at every step: other agents may have edited shared ones. The
    window is the turn's own, which each step extends. Files (open, closed, what is
    visible) too, for an agent that has the file tools to change them."""
    async with deps.db.read() as session:
        blocks = await step_reads.prompt_blocks(session, agent_id)
        folders = (
            (await agent_files.prompt_folders_of(session, [agent_id]))[agent_id]
            if with_files
            else []
        )
    return Snapshot(blocks, window, folders)


@dataclass(frozen=True)
class StepInput:
    """What a step asks the model about: the agent, its tools, which of them it may call
    now, and the input not stored yet."""

    agent: AgentProfile
    tools: dict[str, ToolRow]
    allowed: list[str]
    pending: list[Message]
    nudge: str | None
    client_tools: tuple[ToolSpec, ...] = ()  # run by the client (see agent.approvals)


def context_window(agent: AgentProfile) -> int:
    return int(agent.llm_config.get("context_window") or DEFAULT_CONTEXT_WINDOW)


def system_prompt(
    agent: AgentProfile, blocks: Sequence[PromptBlock], folders: Sequence[PromptFolder]
) -> str:
    """The system prompt with the memory blocks and, for an agent with files, its folders."""
    system = render_system_prompt(agent.system, blocks)
    if directories := render_directories(folders, context_window(agent)):
        system = f"{system}\n\n{directories}"
    return system


def history_budget(
    deps: LoopDeps, agent: AgentProfile, system: str, tools: Iterable[ToolRow]
) -> int:
    """The tokens the history (summary included) may take: the model's window, less the
    share kept for its answer, less the system prompt and the tools offered."""
    return _budget(deps, agent, system, tool_chars(deps.tools, list(tools)))


def _budget(deps: LoopDeps, agent: AgentProfile, system: str, tool_chars: int) -> int:
    window = context_window(agent)
    budget = int(window * deps.settings.context_fraction) - (len(system) + tool_chars) // 4
    return max(budget, MIN_HISTORY_TOKENS)


@dataclass(frozen=True)
class Compiled:
    """A step's model request; `summary_due`: rows would leave its context unsummarised
    (troupe.agent.compaction), and `budget` the history's share of the context."""

    request: ModelRequest
    summary_due: bool
    budget: int


def compile_request(
    deps: LoopDeps, step: StepInput, solver: ToolRuleSolver, snapshot: Snapshot
) -> Compiled:
    agent = step.agent
    system = system_prompt(agent, snapshot.blocks, snapshot.folders)
    offered = [step.tools[name] for name in step.allowed if name in step.tools]
    writable = tuple(b.label for b in snapshot.blocks if not b.read_only)
    tools = deps.offers.offered(deps.registry, deps.tools, offered, writable, solver, step.allowed)
    budget = _budget(deps, agent, system, tools.chars)
    turns, summary_due = snapshot.history.fit(step.pending, budget)
    messages = [ChatMessage(role="system", content=system), *turns]
    if step.nudge:
        messages.append(ChatMessage(role="system", content=step.nudge))
    specs = [*tools.specs, *(spec for spec in step.client_tools if spec.name not in step.tools)]
    must = solver.must_call_a_tool() or bool(step.nudge)
    if must and len(specs) == 1:
        choice = specs[0].name
    elif must and specs:
        choice = "required"
    else:
        choice = "auto"
    config = agent.llm_config
    max_tokens = config.get("max_tokens")
    thinking = config.get("max_reasoning_tokens") if config.get("enable_reasoner") else None
    request = ModelRequest(
        messages=messages,
        tools=specs,
        tool_choice=choice,
        max_tokens=int(max_tokens) if max_tokens else None,
        temperature=config.get("temperature"),
        parallel_tool_calls=config.get("parallel_tool_calls"),
        reasoning_effort=config.get("reasoning_effort"),
        thinking_budget=thinking,
        response_format=config.get("response_format"),
        cache_key=agent.id,
    )
    return Compiled(request, summary_due, budget)
