"""What an agent's context window holds now, part by part: the system prompt, the memory
blocks, the tools offered, the summary and the history that fit. Read from the store, not
from the windows a running turn keeps, so it needs no lock; it is what the agent's next step
would be shown (before a summary that step may write)."""

import json
from dataclasses import dataclass

from troupe.agent.deps import LoopDeps
from troupe.agent.exchanges import estimate_tokens
from troupe.agent.history import read_window
from troupe.agent.prompt import PLAIN_TEXT_AGENT_TYPES, Offer, tool_specs
from troupe.agent.request import context_window, history_budget, system_prompt
from troupe.agent.turn_start import FILE_TOOL
from troupe.errors import NotFound
from troupe.llm.base import ChatMessage, ToolSpec
from troupe.store import agent_files, memory_counts, step_reads
from troupe.store import summaries as summary_store
from troupe.store.messages import History

CHARS_PER_TOKEN = 4  # the estimate the context compiler budgets with


@dataclass(frozen=True)
class ContextParts:
    agent_id: str
    model: str
    context_window: int
    system: str
    core_memory: str
    summary: str | None
    tools: list[ToolSpec]
    # The system message, the summary (if any), then the history as the model sees it.
    messages: list[ChatMessage]
    stored_messages: int
    passages: int

    def tokens(self, text: str | None) -> int:
        return len(text or "") // CHARS_PER_TOKEN

    @property
    def tool_tokens(self) -> int:
        specs = [{"name": t.name, "description": t.description, "parameters": t.parameters}
                 for t in self.tools]  # fmt: skip
        return self.tokens(json.dumps(specs)) if specs else 0

    @property
    def history_tokens(self) -> int:
        return estimate_tokens(self.messages[1:])


async def read_context(deps: LoopDeps, agent_id: str) -> ContextParts:
    async with deps.db.read() as session:
        agents = await step_reads.turn_agents(session, [agent_id])
        if agent_id not in agents:
            raise NotFound(f"agent {agent_id!r} not found")
        agent = agents[agent_id]
        blocks = await step_reads.prompt_blocks(session, agent_id)
        tools = (await deps.tools.tools_of_agents(session, [agent_id]))[agent_id]
        default = History(agent_id)
        summary = (await summary_store.current_summaries(session, [default])).get(default)
        window = await read_window(session, default, deps.settings.history_rows, summary)
        with_files = any(tool.name == FILE_TOOL for tool in tools)
        folders = (
            (await agent_files.prompt_folders_of(session, [agent_id]))[agent_id]
            if with_files
            else []
        )
        stored = await memory_counts.count_messages(session, agent_id)
        passages = await memory_counts.count_passages(session, agent_id)
    system = system_prompt(agent, blocks, folders)
    history = window.fit([], history_budget(deps, agent, system, tools)).messages
    writable = [b.label for b in blocks if not b.read_only]
    always_continues = agent.agent_type in PLAIN_TEXT_AGENT_TYPES  # as its turns offer them
    offers = [Offer.of(t.json_schema, deps.registry.get(t.name), always_continues) for t in tools]
    return ContextParts(
        agent_id=agent.id,
        model=agent.model,
        context_window=context_window(agent),
        system=agent.system,
        # Everything the system message holds after the agent's own prompt: its memory
        # blocks and, for an agent with files, its folders.
        core_memory=system[len(agent.system) :].strip(),
        summary=window.summary.text if window.summary is not None and window.summary.text else None,
        tools=tool_specs(offers, writable),
        messages=[ChatMessage(role="system", content=system), *history],
        stored_messages=stored,
        passages=passages,
    )
