"""Model providers: those the server's environment configures, and settings stored through
the API (0.1.x). Keys are write-only."""

from dataclasses import replace

from pydantic import SecretStr

from troupe.config import ProviderVariables
from troupe.errors import Conflict, InvalidInput, NotFound
from troupe.ids import new_id
from troupe.llm import stored_keys
from troupe.llm.providers import PROVIDERS
from troupe.schemas.providers import Provider, ProviderCreate, ProviderUpdate
from troupe.store import Database
from troupe.store import providers as provider_store
from troupe.store.inserts import insert_rows
from troupe.store.mcp_tables import ProviderRow
from troupe.store.paging import Page

ENVIRONMENT_ID = "provider-env-"  # + the prefix: the id of a provider set up by variables


def configured() -> list[Provider]:
    """The providers whose key or base URL the environment sets, in the provider table's
    order (the embedded model needs neither, and is always there)."""
    variables = ProviderVariables()
    found = [Provider(id=f"{ENVIRONMENT_ID}local", name="local", source="environment")]
    for prefix, provider in PROVIDERS.items():
        names = [n for n in (provider.key_variable, provider.base_url_variable) if n]
        if any(variables.value(n) for n in names):
            found.append(
                Provider(id=f"{ENVIRONMENT_ID}{prefix}", name=prefix, source="environment")
            )
    return found


def _view(row: ProviderRow) -> Provider:
    return Provider(id=row.id, name=row.name, source="api", updated_at=row.updated_at)


async def list_providers(db: Database, page: Page) -> list[Provider]:
    """The environment's providers first (on the first page), then those stored. A cursor
    naming an environment provider is a place among them (they are no rows of the store):
    after it, the rest of them, then the stored ones from the start; before it, the ones
    before it."""
    environment = configured()
    cursor = page.after or page.before
    if cursor is None or not cursor.startswith(ENVIRONMENT_ID):
        async with db.read() as session:
            stored = [_view(r) for r in await provider_store.list_providers(session, page)]
        first_page = page.after is None and page.before is None
        return (environment if first_page else []) + stored
    ids = [p.id for p in environment]
    if cursor not in ids:
        raise NotFound(f"no provider {cursor!r} is set up by this server's environment")
    at = ids.index(cursor)
    if page.after is None:
        return environment[:at][-page.limit :]
    rest = environment[at + 1 :]
    async with db.read() as session:
        rows = await provider_store.list_providers(session, replace(page, after=None))
    return (rest + [_view(r) for r in rows])[: page.limit]


def _keyed_providers() -> list[str]:
    """The prefixes whose handles a stored key serves (those reached with a key)."""
    return [prefix for prefix, p in PROVIDERS.items() if p.key_variable]


async def load_stored_keys(db: Database) -> None:
    """This process's models use the keys stored now (at start-up, after a change, and at
    each maintenance round: another process may have changed them)."""
    async with db.read() as session:
        keys = await provider_store.stored_keys(session)
    stored_keys.replace({name: key for name, key in keys.items() if name in PROVIDERS})


async def create_provider(db: Database, spec: ProviderCreate) -> Provider:
    if spec.name not in _keyed_providers():
        raise InvalidInput(
            f"no provider {spec.name!r} takes a key here; name one of: "
            f"{', '.join(_keyed_providers())} (a stored key serves that provider's model "
            "handles, e.g. `openai/...`)"
        )
    async with db.write() as session:
        existing = await provider_store.provider_by_name(session, spec.name)
        if existing is not None:
            raise Conflict(f"a provider named {spec.name!r} exists ({existing.id}); modify it")
        row = ProviderRow(id=new_id("provider"), name=spec.name, api_key=_key(spec.api_key))
        await insert_rows(session, [row])
    await load_stored_keys(db)
    return _view(row)


async def update_provider(db: Database, change: ProviderUpdate) -> Provider:
    _refuse_environment(change.id)
    async with db.write() as session:
        row = await provider_store.get_provider(session, change.id)
        row.api_key = _key(change.api_key)
        await session.flush()
        view = _view(row)
    await load_stored_keys(db)
    return view


async def delete_provider(db: Database, provider_id: str) -> None:
    _refuse_environment(provider_id)
    async with db.write() as session:
        await provider_store.get_provider(session, provider_id)
        await provider_store.delete_provider(session, provider_id)
    await load_stored_keys(db)


def _key(secret: SecretStr) -> str:
    value = secret.get_secret_value()
    if not value.strip():
        raise InvalidInput("give the provider's `api_key`")
    return value


def _refuse_environment(provider_id: str) -> None:
    if provider_id.startswith(ENVIRONMENT_ID):
        raise InvalidInput(
            f"{provider_id} is configured by the server's environment variables; change them "
            "there (troupe never takes those keys over the API)"
        )
