"""Provider settings rows (their keys are write-only: see ProviderRow)."""

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.lookup import row_or_not_found
from troupe.store.mcp_tables import ProviderRow
from troupe.store.paging import Page, by_creation, fetch_page


async def get_provider(session: AsyncSession, provider_id: str) -> ProviderRow:
    return await row_or_not_found(session, ProviderRow, provider_id, "provider")


async def provider_by_name(session: AsyncSession, name: str) -> ProviderRow | None:
    stmt = select(ProviderRow).where(ProviderRow.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_providers(session: AsyncSession, page: Page) -> list[ProviderRow]:
    return await fetch_page(session, select(ProviderRow), by_creation(ProviderRow), page)


async def delete_provider(session: AsyncSession, provider_id: str) -> None:
    await session.execute(delete(ProviderRow).where(ProviderRow.id == provider_id))


async def stored_keys(session: AsyncSession) -> dict[str, str]:
    """provider name -> its stored key."""
    stmt = select(ProviderRow.name, ProviderRow.api_key).where(ProviderRow.api_key.is_not(None))
    return {name: key for name, key in (await session.execute(stmt)).all() if key}
