"""Human in the loop at the API: which calls an agent waits on, answers to them checked
against those calls (a wrong or stale id is refused before anything is recorded), and the
switch that makes a tool need approval (`PATCH /v1/agents/{id}/tools/approval/{name}`)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from troupe.agent.approvals import Answer, AwaitingApproval, awaiting_calls
from troupe.errors import Conflict, InvalidInput, NotFound
from troupe.llm.base import ToolSpec
from troupe.schemas.agents import AgentState
from troupe.schemas.messages import ApprovalAnswer, ApprovalCreate, ClientTool, ToolReturnCreate
from troupe.services.views import agent_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import messages as message_store
from troupe.store.messages import History, StoredMessage
from troupe.store.tables import ToolRow, utcnow

RULE = "requires_approval"


async def waiting_calls(db: Database, history: History) -> list[StoredMessage]:
    """The calls of the history waiting for an answer (404 if there is no such agent)."""
    async with db.read() as session:
        await agent_store.get_agent_row(session, history.agent_id)
        rows = await message_store.newest_step(session, history)
    return awaiting_calls(rows)


def refuse_if_waiting(
    connection: Connection, *, history: History, newest: Sequence[StoredMessage] | None = None
) -> None:
    """A new message may not start a turn while calls wait for their answers. Checked in
    the transaction that records the message's run, which refuses a missing agent (the
    run's foreign key). `newest`: the rows of the history's newest step, when the caller
    knows them in that transaction (else read here)."""
    if newest is None:
        newest = message_store.newest_step_now(connection, history)
    waiting = awaiting_calls(newest)
    if waiting:
        raise AwaitingApproval(history.agent_id, waiting)


async def checked_answers(
    db: Database, history: History, message: ApprovalCreate | ToolReturnCreate
) -> list[Answer]:
    """The message's answers, one for each waiting call, or a 4xx saying what is wrong."""
    waiting = await waiting_calls(db, history)
    if not waiting:
        raise Conflict(
            f"No tool call is currently awaiting approval for agent {history.agent_id}: it may "
            "have been answered already. Send a regular message to talk to the agent."
        )
    answers = _answers_of(message, waiting)
    expected = sorted(row.tool_call_id or "" for row in waiting)
    received = sorted(a.tool_call_id for a in answers)
    if expected != received:
        raise InvalidInput(
            f"Invalid tool call IDs: expected {expected}, received {received}. Answer each "
            "waiting call once (list the agent's messages: its approval_request_message rows)"
        )
    return answers


def _answers_of(
    message: ApprovalCreate | ToolReturnCreate, waiting: Sequence[StoredMessage]
) -> list[Answer]:
    if isinstance(message, ToolReturnCreate):
        return [_answer(a, result=True) for a in message.tool_returns]
    if message.approvals:
        return [
            _answer(a, result=a.type == "tool" or a.tool_return is not None)
            for a in message.approvals
        ]
    # The older form: one call, named by its request message's id or by its own.
    if message.approve is None:
        raise InvalidInput("send `approvals` [{tool_call_id, approve, reason}] or `approve`")
    named = message.approval_request_id
    if named is None and len(waiting) == 1:
        named = waiting[0].tool_call_id
    row = next((r for r in waiting if named in {r.id, r.tool_call_id}), None)
    call_id = row.tool_call_id if row is not None else named
    return [Answer(call_id or "", message.approve, message.reason)]


def _answer(item: ApprovalAnswer, *, result: bool) -> Answer:
    if result:
        return Answer(
            item.tool_call_id,
            tool_return=item.result_text(),
            status=item.status,
            stdout=item.stdout,
            stderr=item.stderr,
        )
    if item.approve is None:
        raise InvalidInput(f"the answer for {item.tool_call_id!r} needs `approve` (true/false)")
    return Answer(item.tool_call_id, item.approve, item.reason)


def client_tool_specs(tools: Sequence[ClientTool]) -> list[ToolSpec]:
    """The request's client-side tools as the model is offered them."""
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise InvalidInput("client_tools: each tool needs a name of its own")
    empty = {"type": "object", "properties": {}}
    return [ToolSpec(t.name, t.description or "", t.parameters or empty) for t in tools]


def with_approval_rules(
    rules: list[dict[str, Any]], tools: Sequence[ToolRow]
) -> list[dict[str, Any]]:
    """The rules, plus a `requires_approval` rule for each tool whose default asks for one
    (as Letta adds when such a tool is attached)."""
    named = {r.get("tool_name") for r in rules if r.get("type") == RULE}
    extra = [
        {"type": RULE, "tool_name": t.name}
        for t in tools
        if t.default_requires_approval and t.name not in named
    ]
    return [*rules, *extra] if extra else rules


async def set_requires_approval(
    db: Database, agent_id: str, tool_name: str, required: bool | None
) -> AgentState:
    """Add or drop the agent's `requires_approval` rule for one of its tools."""
    if required is None:
        raise InvalidInput("send `requires_approval` (true or false) in the body or the query")
    async with db.write() as session:
        bundle = await agent_store.load_bundle(session, agent_id)
        if all(tool.name != tool_name for tool in bundle.tools):
            raise NotFound(f"agent {agent_id!r} has no tool named {tool_name!r}; attach it first")
        agent = bundle.agent
        rules = [
            r
            for r in agent.tool_rules
            if not (r.get("type") == RULE and r.get("tool_name") == tool_name)
        ]
        if required:
            rules.append({"type": RULE, "tool_name": tool_name})
        if rules != list(agent.tool_rules):
            agent.tool_rules = rules
            agent.updated_at = utcnow()
            await session.flush()
    return agent_view(bundle)
