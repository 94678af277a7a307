"""The groups of an Agent File: exported with the team (members, manager and shared blocks
named by their file ids), imported with the agents' new ids in the same transaction."""

from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.agent_file import AgentFile, GroupSchema
from troupe.schemas.groups import ManagerConfig
from troupe.services.groups import manager_settings
from troupe.store import groups as group_store
from troupe.store.group_tables import GroupRow
from troupe.store.groups import GroupBundle

FileId = Callable[[str, str], str]  # (kind, database id) -> the id in the file


def group_schema(bundle: GroupBundle, file_id: FileId, exported_blocks: set[str]) -> GroupSchema:
    group = bundle.group
    config: dict[str, object] = {"manager_type": group.manager_type}
    if group.manager_agent_id:
        config["manager_agent_id"] = file_id("agent", group.manager_agent_id)
    for field in ("max_turns", "termination_token", "sleeptime_agent_frequency"):
        if getattr(group, field) is not None:
            config[field] = getattr(group, field)
    return GroupSchema(
        id=file_id("group", group.id),
        agent_ids=[file_id("agent", a) for a in bundle.agent_ids],
        description=group.description,
        manager_config=config,
        project_id=group.project_id,
        shared_block_ids=[file_id("block", b) for b in bundle.block_ids if b in exported_blocks],
        hidden=group.hidden,
    )


def check_groups(agent_file: AgentFile) -> None:
    """Every group names agents and blocks of the file, and a manager troupe serves."""
    agents = {a.id for a in agent_file.agents}
    blocks = {b.id for b in agent_file.blocks}
    for group in agent_file.groups:
        config = _config(group)
        named = [*group.agent_ids, *([config.manager_agent_id] if config.manager_agent_id else [])]
        missing = [a for a in named if a not in agents] + [
            b for b in group.shared_block_ids if b not in blocks
        ]
        if missing:
            raise InvalidInput(f"agent file: group {group.id!r} names {missing[0]!r}, not in it")
        manager_settings(config)


def _config(group: GroupSchema) -> ManagerConfig:
    try:
        return ManagerConfig.model_validate(group.manager_config)
    except ValidationError as exc:
        raise InvalidInput(
            f"agent file: group {group.id!r}: manager_config: {exc.errors()[0]['msg']}"
        ) from None


async def store_groups(
    session: AsyncSession,
    groups: list[GroupSchema],
    agent_ids: dict[str, str],
    block_ids: dict[str, str],
) -> None:
    """The file's groups, with the new ids of their agents and blocks (file id -> new id)."""
    for group in groups:
        config = _config(group)
        if config.manager_agent_id:
            config = config.model_copy(
                update={"manager_agent_id": agent_ids[config.manager_agent_id]}
            )
        row = GroupRow(
            id=new_id("group"),
            description=group.description,
            project_id=group.project_id,
            hidden=group.hidden,
            **manager_settings(config),
        )
        members = list(dict.fromkeys(agent_ids[a] for a in group.agent_ids))
        shared = list(dict.fromkeys(block_ids[b] for b in group.shared_block_ids))
        await group_store.insert_group(session, row, members, shared)
