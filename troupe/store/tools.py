"""Tool rows."""

from collections.abc import Sequence

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


async def list_tools(
    session: AsyncSession, page: Page, *, name: str | None = None
) -> list[ToolRow]:
    stmt = select(ToolRow)
    if name is not None:
        stmt = stmt.where(ToolRow.name == name)
    return await fetch_page(session, stmt, by_creation(ToolRow), page)


async def tools_of_types(session: AsyncSession, tool_types: Sequence[str] | None) -> list[ToolRow]:
    """Every tool (of `tool_types`, when given), by creation: tools are few enough to rank in
    memory."""
    stmt = select(ToolRow).order_by(ToolRow.created_at, ToolRow.id)
    if tool_types is not None:
        stmt = stmt.where(ToolRow.tool_type.in_(tool_types))
    return list((await session.execute(stmt)).scalars())
