"""Running a tool directly, outside any turn: one of an agent's tools with given arguments
(1.x), or a function from source (0.1.x). Nothing is added to any history; a user tool runs
in the sandbox with its limits (and, for an agent's tool, the agent's scoped token)."""

import json
import uuid
from typing import Any

from troupe.agent.calls import plan_call, run_now, runs_now
from troupe.agent.deps import LoopDeps
from troupe.errors import NotFound
from troupe.ids import new_id
from troupe.llm.base import ToolCall
from troupe.schemas.messages import ToolReturnMessage
from troupe.schemas.tools import ToolExecutionResult, ToolRunFromSource
from troupe.store import agents as agent_store
from troupe.store.tables import utcnow
from troupe.tools.args_schema import check_args_schema
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.schema import derive_tool


async def run_agent_tool(
    rt: LoopDeps, agent_id: str, tool_name: str, arguments: dict[str, Any]
) -> ToolExecutionResult:
    """Run one of the agent's tools as the agent would, its arguments checked the same way."""
    async with rt.db.read() as session:
        name = (await agent_store.names_of_agents(session, [agent_id])).get(agent_id)
        if name is None:
            raise NotFound(f"agent {agent_id!r} not found")
        tools = {t.name: t for t in (await rt.tools.tools_of_agents(session, [agent_id]))[agent_id]}
    if tool_name not in tools:
        raise NotFound(f"agent {agent_id!r} has no tool named {tool_name!r}; attach it first")
    call = ToolCall(f"call-{uuid.uuid4().hex[:12]}", tool_name, json.dumps(arguments))
    item = plan_call(rt, call, tools, list(tools), {})
    caller = ToolCaller(agent_id, name, run_id="", trace_id="")
    if item.outcome is None and runs_now(item):
        item.outcome = await run_now(rt, caller, tools, item)
    elif item.outcome is None and (run := item.step_runner()) is not None:
        async with rt.db.write() as session:
            item.outcome = await run(session, caller, item.arguments or {})
        if item.parked and item.builtin is not None and item.builtin.waits is not None:
            item.outcome = await item.builtin.waits.collect(caller, item.call.id)
    outcome = item.outcome or ToolOutcome.error(
        f"{tool_name} is the agent's reply: it only means something inside a turn"
    )
    return ToolExecutionResult(
        status=outcome.status,
        func_return=outcome.text,
        stdout=[outcome.stdout] if outcome.stdout else [],
        stderr=[outcome.stderr] if outcome.stderr else [],
    )


async def run_from_source(rt: LoopDeps, body: ToolRunFromSource) -> ToolReturnMessage:
    """Run a function from source in the sandbox, as a tool return message (0.1.x)."""
    derived = derive_tool(body.source_code, function_name=body.name)
    if body.args_json_schema is not None:
        check_args_schema(body.args_json_schema)
    outcome = await rt.user_tools.run_unbound(
        body.source_code, derived.name, body.args, body.env_vars or {}, body.args_json_schema
    )
    return ToolReturnMessage(
        id=new_id("message"),
        date=utcnow(),
        name=derived.name,
        tool_return=outcome.text,
        status=outcome.status,
        tool_call_id=f"call-{uuid.uuid4().hex[:12]}",
        stdout=[outcome.stdout] if outcome.stdout else [],
        stderr=[outcome.stderr] if outcome.stderr else [],
    )
