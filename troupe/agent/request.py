"""The model request of one step: the system prompt with the memory blocks as stored now,
the history window with the step's pending input, a nudge if a rule demands one, and the
tools the rules allow now."""

from dataclasses import dataclass

from troupe.agent.deps import LoopDeps
from troupe.agent.history import Window
from troupe.agent.messages import Message
from troupe.agent.prompt import Offer, render_system_prompt, tool_specs
from troupe.agent.tool_rules import ToolRuleSolver
from troupe.llm.base import ChatMessage, ModelRequest
from troupe.store import step_reads
from troupe.store.step_reads import AgentProfile, PromptBlock
from troupe.store.tables import ToolRow

DEFAULT_CONTEXT_WINDOW = 8192
MIN_HISTORY_TOKENS = 256


@dataclass(frozen=True)
class Snapshot:
    """What a step compiles from: the agent's blocks and newest history, read together."""

    blocks: list[PromptBlock]
    history: Window


async def read_snapshot(deps: LoopDeps, agent_id: str, window: Window) -> Snapshot:
    """Blocks are read again at every step: other agents may have edited shared ones. The
    window is the turn's own, which each step extends."""
    async with deps.db.read() as session:
        blocks = await step_reads.prompt_blocks(session, agent_id)
    return Snapshot(blocks, window)


@dataclass(frozen=True)
class StepInput:
    """What a step asks the model about: the agent, its tools, which of them it may call
    now, and the input not stored yet."""

    agent: AgentProfile
    tools: dict[str, ToolRow]
    allowed: list[str]
    pending: list[Message]
    nudge: str | None


def compile_request(
    deps: LoopDeps, step: StepInput, solver: ToolRuleSolver, snapshot: Snapshot
) -> ModelRequest:
    agent = step.agent
    system = render_system_prompt(agent.system, snapshot.blocks)
    window = int(agent.llm_config.get("context_window") or DEFAULT_CONTEXT_WINDOW)
    budget = int(window * deps.settings.context_fraction) - len(system) // 4
    turns = snapshot.history.fit(step.pending, max(budget, MIN_HISTORY_TOKENS))
    messages = [ChatMessage(role="system", content=system), *turns]
    if step.nudge:
        messages.append(ChatMessage(role="system", content=step.nudge))
    writable = [b.label for b in snapshot.blocks if not b.read_only]
    offers = [
        Offer.of(step.tools[name].json_schema, deps.registry.get(name))
        for name in step.allowed
        if name in step.tools
    ]
    specs = tool_specs(
        offers,
        writable,
        {n: list(solver.prefilled(n)) for n in step.allowed},
        {n: solver.argument_schemas(n) for n in step.allowed},
    )
    must = solver.must_call_a_tool() or bool(step.nudge)
    if must and len(specs) == 1:
        choice = specs[0].name
    elif must and specs:
        choice = "required"
    else:
        choice = "auto"
    max_tokens = agent.llm_config.get("max_tokens")
    return ModelRequest(
        messages=messages,
        tools=specs,
        tool_choice=choice,
        max_tokens=int(max_tokens) if max_tokens else None,
        temperature=agent.llm_config.get("temperature"),
        cache_key=agent.id,
    )
