"""The tools, blocks and identities a request gives an agent: found, in the order asked, and checked
against each other (one block per label; tool rules naming only the agent's tools)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.agent.messages import Message
from troupe.errors import Conflict, NotFound
from troupe.ids import otid_at
from troupe.schemas.agents import InitialMessage
from troupe.store import blocks as block_store
from troupe.store import identities as identity_store
from troupe.store import tools as tool_store
from troupe.store.tables import BlockRow, ToolRow


def ordered_unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def resolve_tools(
    session: AsyncSession, *, ids: Sequence[str], names: Sequence[str]
) -> list[ToolRow]:
    """Tools named or id'd by a request, in the order asked, or NotFound naming what is missing."""
    rows = await tool_store.tools_by_ids_or_names(session, ids=ids, names=names)
    by_id = {r.id: r for r in rows}
    by_name = {r.name: r for r in rows}
    missing = [n for n in names if n not in by_name] + [i for i in ids if i not in by_id]
    if missing:
        raise NotFound(
            f"tools not found: {', '.join(missing)}; create them with POST /v1/tools/ first"
        )
    ordered = [by_name[n] for n in names] + [by_id[i] for i in ids]
    return list({t.id: t for t in ordered}.values())


async def resolve_blocks(session: AsyncSession, ids: Sequence[str]) -> list[BlockRow]:
    found = await block_store.blocks_by_ids(session, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"blocks not found: {', '.join(missing)}")
    return [found[i] for i in ids]


def check_unique_labels(blocks: Sequence[BlockRow]) -> None:
    seen: dict[str, str] = {}
    for block in blocks:
        if block.label in seen and seen[block.label] != block.id:
            raise Conflict(
                f"two memory blocks are labelled {block.label!r} ({seen[block.label]} and "
                f"{block.id}); an agent holds one block per label"
            )
        seen[block.label] = block.id


def id_and_label(blocks: Sequence[BlockRow]) -> list[tuple[str, str]]:
    """What attaching the blocks records of each."""
    return [(b.id, b.label) for b in blocks]


async def link_identities(
    session: AsyncSession, agent_id: str, identity_ids: Sequence[str]
) -> None:
    """The agent is linked to exactly these identities (all of which must exist)."""
    missing = set(identity_ids) - await identity_store.existing_ids(session, identity_ids)
    if missing:
        raise NotFound(
            f"identities not found: {', '.join(i for i in identity_ids if i in missing)}"
        )
    await identity_store.set_agent_identities(session, agent_id, identity_ids)


_INITIAL_TYPES = {
    "user": "user_message",
    "system": "system_message",
    "assistant": "assistant_message",
}


def initial_messages(sequence: Sequence[InitialMessage]) -> list[Message]:
    """`initial_message_sequence` as the agent's first history rows (an assistant message as
    a plain-text reply)."""
    found = []
    for given in sequence:
        message = Message(_INITIAL_TYPES[given.role], content=given.text(), name=given.name)
        message.otid = otid_at(message.id, 0)
        found.append(message)
    return found
