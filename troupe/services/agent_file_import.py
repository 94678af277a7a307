"""Import an Agent File: every agent in it, with new ids, its blocks (shared blocks stay
shared), tools, tags, tool rules, history and groups, in one transaction: a file that fails any
check imports nothing."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from troupe.agent.tool_rules import parse_rules
from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.agent_file import AgentFile, AgentSchema, BlockSchema
from troupe.schemas.agents import AgentState
from troupe.schemas.blocks import BlockCreate
from troupe.services.agent_file_folders import plan_folders, store_folders
from troupe.services.agent_file_groups import check_groups, store_groups
from troupe.services.agent_file_legacy import is_legacy, upgraded
from troupe.services.agent_file_mcp import plan_mcp, store_mcp
from troupe.services.agent_file_messages import import_history
from troupe.services.agent_file_tools import ToolPlan, plan_tools, store_tools
from troupe.services.agent_file_variables import imported_variables
from troupe.services.approvals import with_approval_rules
from troupe.services.blocks import new_block_row
from troupe.services.folders import FileIntake
from troupe.services.imported_models import (
    imported_compaction,
    imported_embedding,
    imported_model,
)
from troupe.services.views import NO_EMBEDDING, agent_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store.agent_variables import new_variable_rows
from troupe.store.inserts import execute_statements, insert_rows
from troupe.store.messages import History, message_statements, number_messages
from troupe.store.tables import AgentRow, BlockRow, MessageRow
from troupe.tools.registry import ToolRegistry

COPY_SUFFIX = "_copy"


@dataclass(frozen=True)
class ImportOptions:
    """What the request asks of the import, as both SDK lines name it."""

    override_existing_tools: bool = True
    strip_messages: bool = False
    append_copy_suffix: bool = False
    name: str | None = None
    model: str | None = None
    embedding: str | None = None
    allow_stdio_mcp_servers: bool = False  # create the file's stdio MCP servers (commands)
    variables: Mapping[str, str] = field(default_factory=dict)  # given to every agent


def read_agent_file(data: bytes) -> AgentFile:
    """The file, or a 422 saying what is wrong with it."""
    try:
        document = json.loads(data)
        if isinstance(document, str):  # the file as a JSON string: a script that saved the
            document = json.loads(document)  # 1.x SDK's export_file() text with json.dump()
    except (ValueError, RecursionError):
        raise InvalidInput("the file is not JSON: upload an agent file (.af)") from None
    if not isinstance(document, dict):
        raise InvalidInput("the file is not an agent file: its top level is not an object")
    if is_legacy(document):
        document = upgraded(document)
    try:
        agent_file = AgentFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"the file is not an agent file: {where}: {first['msg']}") from None
    _check_ids(agent_file)
    check_groups(agent_file)
    return agent_file


def _check_ids(agent_file: AgentFile) -> None:
    """Each id names one object of its kind, and every reference names one in the file."""
    kinds: dict[str, Sequence[Any]] = {
        "agent": agent_file.agents,
        "block": agent_file.blocks,
        "tool": agent_file.tools,
        "group": agent_file.groups,
    }
    for kind, items in kinds.items():
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise InvalidInput(f"agent file: two {kind}s have the id {duplicate!r}")
    if not agent_file.agents:
        raise InvalidInput("agent file: it holds no agent")
    blocks = {b.id for b in agent_file.blocks}
    tools = {t.id for t in agent_file.tools}
    message_ids: set[str] = set()
    for agent in agent_file.agents:
        _check_refs(agent.name, "block", agent.block_ids, blocks)
        _check_refs(agent.name, "tool", agent.tool_ids, tools)
        own = [m.id for m in agent.messages]
        if message_ids.intersection(own) or len(set(own)) != len(own):
            raise InvalidInput(f"agent file: agent {agent.name!r} repeats a message id")
        message_ids.update(own)


def _check_refs(owner: str, kind: str, wanted: Sequence[str], known: set[str]) -> None:
    missing = [i for i in wanted if i not in known]
    if missing:
        raise InvalidInput(f"agent file: agent {owner!r} names {kind} {missing[0]!r}, not in it")


def _block_row(block: BlockSchema) -> BlockRow:
    fields = {"label", "value", "limit", "description", "metadata", "read_only", "is_template"}
    try:
        spec = BlockCreate.model_validate(
            {**block.model_dump(include=fields), "template_name": block.template_name}
        )
    except ValidationError as exc:
        raise InvalidInput(f"agent file: block {block.id!r}: {exc.errors()[0]['msg']}") from None
    return new_block_row(spec)


def _agent_row(agent: AgentSchema, options: ImportOptions, *, first: bool) -> AgentRow:
    """`first`: the file's first agent (the one exported), the one `options.name` renames."""
    handle, llm_config = imported_model(agent, options.model)
    embedding = imported_embedding(agent, options.embedding)
    name = (options.name if first else None) or agent.name
    # Every rule is kept, as agent create keeps them: one naming a tool the agent lacks
    # stays inert until that tool is attached. A malformed one refuses the whole file.
    rules = list(agent.tool_rules or [])
    parse_rules(rules)
    return AgentRow(
        id=new_id("agent"),
        name=name + COPY_SUFFIX if options.append_copy_suffix else name,
        description=agent.description,
        system=agent.system or "",
        agent_type=agent.agent_type or "letta_v1_agent",
        model=handle,
        llm_config=llm_config.model_dump(),
        embedding_config=embedding.model_dump() if embedding else NO_EMBEDDING,
        tool_rules=rules,
        metadata_=agent.metadata,
        compaction_settings=imported_compaction(agent),
        memory_variables=agent.memory_variables,
    )


@dataclass
class _Planned:
    agent: AgentRow
    spec: AgentSchema
    messages: list[MessageRow]
    variables: dict[str, str]


async def import_agent_file(
    db: Database,
    registry: ToolRegistry,
    data: bytes,
    options: ImportOptions,
    intake: FileIntake,
) -> list[AgentState]:
    """Import every agent of the file; their states, in the file's order. The files of its
    folders are embedded first, so that the import stays one transaction."""
    agent_file = read_agent_file(data)
    folders = await plan_folders(agent_file, intake, options.embedding)
    mcp = plan_mcp(agent_file, allow_stdio=options.allow_stdio_mcp_servers)
    tools: ToolPlan = plan_tools([t for t in agent_file.tools if t.id not in mcp.tools], registry)
    blocks = {b.id: _block_row(b) for b in agent_file.blocks}
    planned = []
    for index, spec in enumerate(agent_file.agents):
        _check_labels(spec.name, [blocks[b] for b in dict.fromkeys(spec.block_ids)])
        messages = [] if options.strip_messages else import_history(spec.messages)
        row = _agent_row(spec, options, first=index == 0)
        planned.append(_Planned(row, spec, messages, imported_variables(spec, options.variables)))
    async with db.write() as session:
        tool_rows = await store_tools(
            session, tools, override_existing=options.override_existing_tools
        )
        tool_rows.update(await store_mcp(session, mcp))
        await insert_rows(session, list(blocks.values()))
        for item in planned:
            attached = [tool_rows[t] for t in dict.fromkeys(item.spec.tool_ids) if t in tool_rows]
            item.agent.tool_rules = with_approval_rules(item.agent.tool_rules, attached)
            own_blocks = [blocks[b] for b in dict.fromkeys(item.spec.block_ids)]
            await agent_store.insert_agent(
                session,
                item.agent,
                [],
                blocks=[(b.id, b.label) for b in own_blocks],
                tool_ids=[t.id for t in attached],
                tags=list(dict.fromkeys(item.spec.tags or [])),
                variables=new_variable_rows(item.agent.id, item.variables),
            )
            number_messages(History(item.agent.id), item.messages, 0)
            await execute_statements(session, message_statements(item.messages))
        new_agents = {item.spec.id: item.agent.id for item in planned}
        new_blocks = {file_id: row.id for file_id, row in blocks.items()}
        await store_groups(session, agent_file.groups, new_agents, new_blocks)
        await store_folders(session, agent_file, folders, new_agents)
        await session.flush()
        bundles = await agent_store.load_bundles(session, [p.agent for p in planned])
    return [agent_view(bundle) for bundle in bundles]


def _check_labels(name: str, blocks: Sequence[BlockRow]) -> None:
    labels = [b.label for b in blocks]
    if len(set(labels)) != len(labels):
        raise InvalidInput(f"agent file: agent {name!r} has two blocks with one label")
