"""What is attached to an agent after it is made: its memory blocks (by id, or by label) and
its tools."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import Conflict
from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import Block, BlockUpdate
from troupe.schemas.tools import Tool
from troupe.services.approvals import with_approval_rules
from troupe.services.blocks import apply_block_update
from troupe.services.views import agent_view, block_view, tool_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import blocks as block_store
from troupe.store import tools as tool_store
from troupe.store.paging import Page
from troupe.store.tables import BlockRow, utcnow


async def attach_block(db: Database, agent_id: str, block_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await attach_block_in(session, agent_id, await block_store.get_block(session, block_id))
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def attach_block_in(session: AsyncSession, agent_id: str, block: BlockRow) -> None:
    """Attach the block in this transaction, unless the agent has it already; refused when
    the agent has another block with its label."""
    labels = await block_store.labels_of_agent(session, agent_id)
    holder = labels.get(block.label)
    if holder is not None and holder != block.id:
        raise Conflict(
            f"agent {agent_id!r} already has a block labelled {block.label!r} ({holder}); "
            "detach it first or relabel one of them"
        )
    if holder is None:
        position = await attachment_store.next_block_position(session, agent_id)
        await attachment_store.attach_blocks(
            session, agent_id, [(block.id, block.label)], start=position
        )


async def detach_block(db: Database, agent_id: str, block_id: str) -> AgentState:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        await block_store.get_block(session, block_id)
        await attachment_store.detach_block(session, agent_id, block_id)
        bundle = await agent_store.load_bundle(session, agent_id)
    return agent_view(bundle)


async def attach_tool(db: Database, agent_id: str, tool_id: str) -> AgentState:
    async with db.write() as session:
        bundle = await agent_store.load_bundle(session, agent_id)
        tool = await tool_store.get_tool(session, tool_id)
        if all(t.id != tool.id for t in bundle.tools):
            position = await attachment_store.next_tool_position(session, agent_id)
            await attachment_store.attach_tools(session, agent_id, [tool.id], start=position)
            bundle.tools.append(tool)
            rules = with_approval_rules(list(bundle.agent.tool_rules), [tool])
            if rules != bundle.agent.tool_rules:
                bundle.agent.tool_rules = rules
                await session.flush()
    return agent_view(bundle)


async def detach_tool(db: Database, agent_id: str, tool_id: str) -> AgentState:
    """Detach the tool, and drop what the agent's tool rules say of it in the same
    transaction (as Letta does): a rule would otherwise name a tool the agent lacks."""
    async with db.write() as session:
        bundle = await agent_store.load_bundle(session, agent_id)
        tool = await tool_store.get_tool(session, tool_id)
        await attachment_store.detach_tool(session, agent_id, tool_id)
        bundle.tools = [t for t in bundle.tools if t.id != tool_id]
        rules = rules_without_tool(list(bundle.agent.tool_rules), tool.name)
        if rules != bundle.agent.tool_rules:
            bundle.agent.tool_rules = rules
            bundle.agent.updated_at = utcnow()
            await session.flush()
    return agent_view(bundle)


def rules_without_tool(rules: list[dict[str, Any]], tool_name: str) -> list[dict[str, Any]]:
    """The tool rules with `tool_name` gone: a rule of that tool goes; a rule that names it
    as a child (or a conditional outcome) loses it, and goes if it names no child then."""
    kept = []
    for rule in rules:
        if rule.get("tool_name") == tool_name:
            continue
        if tool_name not in _children(rule):
            kept.append(rule)
            continue
        pruned = dict(rule)
        if rule.get("children"):
            pruned["children"] = [c for c in rule["children"] if c != tool_name]
        if rule.get("child_output_mapping"):
            outcomes = rule["child_output_mapping"].items()
            pruned["child_output_mapping"] = {k: v for k, v in outcomes if v != tool_name}
        if rule.get("default_child") == tool_name:
            pruned["default_child"] = None
        if _children(pruned):
            kept.append(pruned)
    return kept


def _children(rule: dict[str, Any]) -> list[str]:
    """The tools a rule names besides its own (its children, a conditional's outcomes)."""
    default = [rule["default_child"]] if rule.get("default_child") else []
    return [
        *(rule.get("children") or []),
        *(rule.get("child_output_mapping") or {}).values(),
        *default,
    ]


async def list_agent_blocks(db: Database, agent_id: str, page: Page) -> list[Block]:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        rows = await attachment_store.page_of_blocks(session, agent_id, page)
    return [block_view(r) for r in rows]


async def list_agent_tools(db: Database, agent_id: str, page: Page) -> list[Tool]:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        rows = await attachment_store.page_of_tools(session, agent_id, page)
    return [tool_view(r) for r in rows]


async def get_agent_block(db: Database, agent_id: str, label: str) -> Block:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        return block_view(await block_store.agent_block_by_label(session, agent_id, label))


async def update_agent_block(
    db: Database, agent_id: str, label: str, changes: BlockUpdate
) -> Block:
    async with db.write() as session:
        await agent_store.get_agent_row(session, agent_id)
        row = await block_store.agent_block_by_label(session, agent_id, label)
        row = await apply_block_update(session, row, changes)
    return block_view(row)
