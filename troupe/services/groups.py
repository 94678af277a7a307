"""Groups of agents (Letta's multi-agent groups): create, read, list, change, delete, and
the blocks a group shares with its members. What a group's turn does is
troupe.services.group_messages (and troupe.messaging.group_chat)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.groups import (
    DEFAULT_TERMINATION_TOKEN,
    MANAGER_TYPES,
    Group,
    GroupCreate,
    GroupUpdate,
    ManagerConfig,
)
from troupe.services.agent_parts import ordered_unique
from troupe.services.attachments import attach_block_in
from troupe.services.views import group_view
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store import attachments as attachment_store
from troupe.store import blocks as block_store
from troupe.store import groups as group_store
from troupe.store import tools as tool_store
from troupe.store.group_tables import GroupRow
from troupe.store.paging import Page

# The supervisor's tool (troupe.messaging.group_chat registers it): given to the manager.
SUPERVISOR_TOOL = "send_message_to_all_agents_in_group"
LEADS = ("supervisor", "dynamic", "sleeptime")  # the manager types that need a manager
# The manager settings a change of manager config may leave out (see `merged_config`).
MANAGER_FIELDS = (
    "manager_agent_id",
    "termination_token",
    "max_turns",
    "sleeptime_agent_frequency",
    "max_message_buffer_length",
    "min_message_buffer_length",
)


def manager_settings(config: ManagerConfig) -> dict[str, Any]:
    """The group columns a manager config sets, checked."""
    kind = config.manager_type
    if kind not in MANAGER_TYPES:
        raise InvalidInput(
            f"manager_type {kind!r} is not served by troupe; use one of {', '.join(MANAGER_TYPES)}"
        )
    if kind in LEADS and not config.manager_agent_id:
        raise InvalidInput(f"a {kind} group needs `manager_config.manager_agent_id`")
    token = config.termination_token
    return {
        "manager_type": kind,
        "manager_agent_id": config.manager_agent_id if kind in LEADS else None,
        "termination_token": (token or DEFAULT_TERMINATION_TOKEN) if kind == "dynamic" else None,
        "max_turns": config.max_turns if kind in ("round_robin", "dynamic") else None,
        "sleeptime_agent_frequency": config.sleeptime_agent_frequency
        if kind == "sleeptime"
        else None,
        "turns_counter": 0 if kind == "sleeptime" else None,
        "max_message_buffer_length": config.max_message_buffer_length,
        "min_message_buffer_length": config.min_message_buffer_length,
    }


async def _check_agents(
    session: AsyncSession, agent_ids: list[str], settings: dict[str, Any]
) -> None:
    if not agent_ids and settings["manager_type"] != "sleeptime":
        raise InvalidInput("a group needs at least one agent in `agent_ids`")
    manager = settings.get("manager_agent_id")
    for agent_id in [*agent_ids, *([manager] if manager else [])]:
        await agent_store.get_agent_row(session, agent_id)  # 404 naming the missing agent


async def _check_blocks(session: AsyncSession, block_ids: list[str]) -> None:
    """Before any write: a missing block is a 404 naming it, not a foreign-key failure."""
    for block_id in block_ids:
        await block_store.get_block(session, block_id)


async def _share_blocks(session: AsyncSession, bundle: group_store.GroupBundle) -> None:
    """Attach the group's shared blocks to every member and its manager."""
    manager = bundle.group.manager_agent_id
    for block_id in bundle.block_ids:
        block = await block_store.get_block(session, block_id)
        for agent_id in ordered_unique([*bundle.agent_ids, *([manager] if manager else [])]):
            await attach_block_in(session, agent_id, block)


async def _equip_manager(session: AsyncSession, group: GroupRow) -> None:
    """A supervisor reaches its group through the supervisor tool (as in Letta)."""
    if group.manager_type != "supervisor" or group.manager_agent_id is None:
        return
    tool = await tool_store.tool_by_name(session, SUPERVISOR_TOOL)
    if tool is None:
        return
    bundle = await agent_store.load_bundle(session, group.manager_agent_id, in_context=False)
    if all(t.id != tool.id for t in bundle.tools):
        position = await attachment_store.next_tool_position(session, group.manager_agent_id)
        await attachment_store.attach_tools(
            session, group.manager_agent_id, [tool.id], start=position
        )


async def create_group(db: Database, spec: GroupCreate) -> Group:
    settings = manager_settings(spec.manager_config)
    agent_ids = ordered_unique(spec.agent_ids)
    block_ids = ordered_unique(spec.shared_block_ids)
    group = GroupRow(
        id=new_id("group"),
        description=spec.description,
        project_id=spec.project_id,
        hidden=spec.hidden,
        **settings,
    )
    async with db.write() as session:
        await _check_agents(session, agent_ids, settings)
        await _check_blocks(session, block_ids)
        await group_store.insert_group(session, group, agent_ids, block_ids)
        bundle = await group_store.get_group(session, group.id)
        await _share_blocks(session, bundle)
        await _equip_manager(session, group)
    return group_view(bundle)


async def upsert_group(db: Database, spec: GroupCreate) -> Group:
    """0.1.x's PUT /v1/groups: Letta names no key to match an existing group by, so each
    upsert makes a group, as Letta's server did."""
    return await create_group(db, spec)


async def get_group(db: Database, group_id: str) -> Group:
    async with db.read() as session:
        return group_view(await group_store.get_group(session, group_id))


async def list_groups(
    db: Database,
    page: Page,
    *,
    manager_type: str | None = None,
    project_id: str | None = None,
    show_hidden: bool = False,
) -> list[Group]:
    async with db.read() as session:
        bundles = await group_store.list_groups(
            session,
            page,
            manager_type=manager_type,
            project_id=project_id,
            show_hidden=show_hidden,
        )
    return [group_view(b) for b in bundles]


async def count_groups(db: Database) -> int:
    async with db.read() as session:
        return await group_store.count_groups(session)


async def groups_of_agent(db: Database, agent_id: str, manager_type: str | None) -> list[Group]:
    async with db.read() as session:
        await agent_store.get_agent_row(session, agent_id)
        bundles = await group_store.groups_of_agent(session, agent_id)
    return [
        group_view(b)
        for b in bundles
        if manager_type is None or b.group.manager_type == manager_type
    ]


async def update_group(db: Database, group_id: str, changes: GroupUpdate) -> Group:
    async with db.write() as session:
        current = await group_store.get_group(session, group_id)
        values: dict[str, Any] = {}
        if changes.description is not None:
            values["description"] = changes.description
        if "project_id" in changes.model_fields_set:
            values["project_id"] = changes.project_id
        if changes.manager_config is not None:
            settings = manager_settings(merged_config(current.group, changes.manager_config))
            values.update(settings)
            if settings["manager_type"] == current.group.manager_type == "sleeptime":
                values["turns_counter"] = current.group.turns_counter  # keep counting
        agent_ids = (
            ordered_unique(changes.agent_ids)
            if changes.agent_ids is not None
            else current.agent_ids
        )
        await _check_agents(session, agent_ids, {**_settings_of(current.group), **values})
        await _check_blocks(session, ordered_unique(changes.shared_block_ids or []))
        await group_store.update_group(session, group_id, values)
        if changes.agent_ids is not None:
            await group_store.replace_members(session, group_id, agent_ids)
        if changes.shared_block_ids is not None:
            await group_store.replace_blocks(
                session, group_id, ordered_unique(changes.shared_block_ids)
            )
        session.expire_all()
        bundle = await group_store.get_group(session, group_id)
        await _share_blocks(session, bundle)
        await _equip_manager(session, bundle.group)
    return group_view(bundle)


def merged_config(group: GroupRow, given: ManagerConfig) -> ManagerConfig:
    """Letta's manager-config changes (`SleeptimeManagerUpdate(sleeptime_agent_frequency=1)`,
    ...) name only what changes: a field left out keeps the group's value, and a config that
    names no manager type is of the group's own type (it is never the creation default,
    round robin). Naming another type is a new config, checked whole (Letta refused it)."""
    sent = given.model_fields_set
    if "manager_type" in sent and given.manager_type != group.manager_type:
        return given
    kept = {field: getattr(group, field) for field in MANAGER_FIELDS if field not in sent}
    return given.model_copy(update={"manager_type": group.manager_type, **kept})


def _settings_of(group: GroupRow) -> dict[str, Any]:
    return {"manager_type": group.manager_type, "manager_agent_id": group.manager_agent_id}


async def delete_group(db: Database, group_id: str) -> None:
    async with db.write() as session:
        await group_store.get_group_row(session, group_id)
        await group_store.delete_group(session, group_id)


async def attach_block(db: Database, group_id: str, block_id: str) -> None:
    """Share the block with the group: attached to the group and all its agents."""
    async with db.write() as session:
        await group_store.get_group_row(session, group_id)
        await block_store.get_block(session, block_id)
        await group_store.add_block(session, group_id, block_id)
        bundle = await group_store.get_group(session, group_id)
        await _share_blocks(session, bundle)


async def detach_block(db: Database, group_id: str, block_id: str) -> None:
    """Stop sharing the block: detached from the group and all its agents."""
    async with db.write() as session:
        bundle = await group_store.get_group(session, group_id)
        await block_store.get_block(session, block_id)
        await group_store.remove_block(session, group_id, block_id)
        manager = bundle.group.manager_agent_id
        for agent_id in ordered_unique([*bundle.agent_ids, *([manager] if manager else [])]):
            await attachment_store.detach_block(session, agent_id, block_id)
