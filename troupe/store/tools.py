"""Tool rows."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.lookup import row_or_not_found
from troupe.store.paging import Page, by_creation, fetch_page
from troupe.store.tables import ToolRow


async def get_tool(session: AsyncSession, tool_id: str) -> ToolRow:
    return await row_or_not_found(session, ToolRow, tool_id, "tool")


async def delete_tool(session: AsyncSession, tool_id: str) -> None:
    """The tool and, by cascade, its attachments to agents."""
    await session.execute(delete(ToolRow).where(ToolRow.id == tool_id))


async def tool_by_name(session: AsyncSession, name: str) -> ToolRow | None:
    return (await session.execute(select(ToolRow).where(ToolRow.name == name))).scalar_one_or_none()


async def tools_by_ids_or_names(
    session: AsyncSession, *, ids: Sequence[str], names: Sequence[str]
) -> list[ToolRow]:
    if not ids and not names:
        return []
    stmt = select(ToolRow).where(or_(ToolRow.id.in_(ids), ToolRow.name.in_(names)))
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True)
class ToolFilter:
    """What a tool list may be narrowed by; None (or empty) narrows nothing."""

    names: Sequence[str] = ()
    name_contains: str | None = None  # case-insensitive, `%` and `_` taken literally
    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    excluded_types: Sequence[str] = ()
    type_prefix: str | None = None


async def list_tools(session: AsyncSession, page: Page, filters: ToolFilter) -> list[ToolRow]:
    stmt = select(ToolRow)
    if filters.names:
        stmt = stmt.where(ToolRow.name.in_(filters.names))
    if filters.name_contains is not None:
        stmt = stmt.where(ToolRow.name.icontains(filters.name_contains, autoescape=True))
    if filters.ids:
        stmt = stmt.where(ToolRow.id.in_(filters.ids))
    if filters.types:
        stmt = stmt.where(ToolRow.tool_type.in_(filters.types))
    if filters.excluded_types:
        stmt = stmt.where(ToolRow.tool_type.not_in(filters.excluded_types))
    if filters.type_prefix is not None:
        stmt = stmt.where(ToolRow.tool_type.startswith(filters.type_prefix, autoescape=True))
    return await fetch_page(session, stmt, by_creation(ToolRow), page)


async def tools_of_types(session: AsyncSession, tool_types: Sequence[str] | None) -> list[ToolRow]:
    """Every tool (of `tool_types`, when given), by creation: tools are few enough to rank in
    memory."""
    stmt = select(ToolRow).order_by(ToolRow.created_at, ToolRow.id)
    if tool_types is not None:
        stmt = stmt.where(ToolRow.tool_type.in_(tool_types))
    return list((await session.execute(stmt)).scalars())
