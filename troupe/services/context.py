"""An agent's context window and core memory as the 0.1.x SDK reads them."""

from troupe.agent.context_view import ContextParts, read_context
from troupe.agent.deps import LoopDeps
from troupe.agent.exchanges import estimate_tokens
from troupe.llm.base import ChatMessage, ToolSpec
from troupe.schemas.agents import Memory
from troupe.schemas.context import (
    ContextMessage,
    ContextWindowOverview,
    FunctionCall,
    FunctionDefinition,
    FunctionTool,
    MemoryVariables,
    TextContent,
    ToolCall,
)
from troupe.services.views import block_view
from troupe.store import Database
from troupe.store import agents as agent_store


async def context_overview(deps: LoopDeps, agent_id: str) -> ContextWindowOverview:
    parts = await read_context(deps, agent_id)
    head = 2 if parts.summary is not None else 1  # the system message, then the summary
    system = parts.tokens(parts.system)
    core = parts.tokens(parts.core_memory)
    summary = estimate_tokens(parts.messages[1:head])
    tools = parts.tool_tokens
    history = estimate_tokens(parts.messages[head:])
    return ContextWindowOverview(
        context_window_size_max=parts.context_window,
        context_window_size_current=system + core + summary + tools + history,
        num_messages=len(parts.messages),
        num_archival_memory=parts.passages,
        num_recall_memory=parts.stored_messages,
        # troupe does not put a description of the memory outside the context into it.
        num_tokens_external_memory_summary=0,
        external_memory_summary="",
        num_tokens_system=system,
        system_prompt=parts.system,
        num_tokens_core_memory=core,
        core_memory=parts.core_memory,
        num_tokens_summary_memory=summary,
        summary_memory=parts.summary,
        num_tokens_functions_definitions=tools,
        functions_definitions=[_function_tool(t) for t in parts.tools],
        num_tokens_messages=history,
        messages=[_context_message(parts, m) for m in parts.messages],
    )


def _function_tool(spec: ToolSpec) -> FunctionTool:
    return FunctionTool(
        function=FunctionDefinition(
            name=spec.name, description=spec.description, parameters=spec.parameters
        )
    )


def _context_message(parts: ContextParts, message: ChatMessage) -> ContextMessage:
    calls = [
        ToolCall(id=c.id, function=FunctionCall(name=c.name, arguments=c.arguments))
        for c in message.tool_calls
    ]
    return ContextMessage(
        role=message.role,
        content=[TextContent(text=message.content)] if message.content is not None else None,
        agent_id=parts.agent_id,
        model=parts.model,
        name=message.name,
        tool_calls=calls or None,
        tool_call_id=message.tool_call_id,
    )


async def core_memory(db: Database, agent_id: str) -> Memory:
    async with db.read() as session:
        bundle = await agent_store.load_bundle(session, agent_id, in_context=False)
    return Memory(blocks=[block_view(b) for b in bundle.blocks])


async def memory_variables(db: Database, agent_id: str) -> MemoryVariables:
    """The `memory_variables` the agent was created with."""
    async with db.read() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
    stored = agent.memory_variables or {}
    return MemoryVariables(variables={k: v or "" for k, v in stored.items()})
