"""Tools: create and upsert from Python source, and the built-in tools' rows."""

from collections.abc import Sequence
from typing import Any

from troupe.errors import Conflict, InvalidInput
from troupe.ids import new_id
from troupe.schemas.tools import MCP_TOOL_TYPE, Tool, ToolCreate, ToolUpdate
from troupe.services.list_filters import split_commas
from troupe.services.views import tool_view
from troupe.store import Database
from troupe.store import tools as tool_store
from troupe.store.inserts import insert_rows
from troupe.store.paging import Page
from troupe.store.tables import ToolRow
from troupe.tools.args_schema import check_args_schema, with_args_schema
from troupe.tools.registry import ToolRegistry
from troupe.tools.schema import derive_tool


def _schema_for(
    source_code: str, override: dict[str, Any] | None, args_schema: dict[str, Any] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """(name, description, json_schema) of a user tool; an explicit schema names the function
    and wins; else an `args_json_schema` gives the parameters and the source the rest."""
    if args_schema is not None:
        check_args_schema(args_schema)
    if override is not None:
        name = override.get("name")
        if not isinstance(name, str) or not isinstance(override.get("parameters", {}), dict):
            raise InvalidInput("json_schema needs a string `name` and an object `parameters`")
        if not isinstance(override.get("description", ""), str | None):
            raise InvalidInput("json_schema `description` must be a string")
        derived = derive_tool(source_code, function_name=name)
        schema = {"description": derived.description, "parameters": {}, **override}
        return derived.name, str(schema.get("description") or ""), schema
    derived = derive_tool(source_code)
    if args_schema is None:
        return derived.name, derived.description, derived.json_schema
    return derived.name, derived.description, with_args_schema(derived.json_schema, args_schema)


def _refuse_builtin(row: ToolRow | None) -> None:
    """Built-in tools are stored (synced at start-up) with their own tool_type."""
    if row is not None and row.tool_type != "custom":
        raise Conflict(f"{row.name!r} is {_kind(row)}; give your function another name")


def _kind(row: ToolRow) -> str:
    return "a tool of an MCP server" if row.tool_type == MCP_TOOL_TYPE else "a built-in tool"


async def create_tool(db: Database, spec: ToolCreate) -> Tool:
    name, description, schema = _schema_for(
        spec.source_code, spec.json_schema, spec.args_json_schema
    )
    async with db.write() as session:
        existing = await tool_store.tool_by_name(session, name)
        _refuse_builtin(existing)
        if existing is not None:
            raise Conflict(
                f"a tool named {name!r} already exists ({existing.id}); "
                "use PUT /v1/tools/ to create or update it"
            )
        row = _new_row(spec, name, description, schema)
        await insert_rows(session, [row])
    return tool_view(row)


async def upsert_tool(db: Database, spec: ToolCreate) -> Tool:
    name, description, schema = _schema_for(
        spec.source_code, spec.json_schema, spec.args_json_schema
    )
    async with db.write() as session:
        row = await tool_store.tool_by_name(session, name)
        _refuse_builtin(row)
        if row is None:
            row = _new_row(spec, name, description, schema)
            await insert_rows(session, [row])
        else:
            # As Letta's upsert, a request that leaves the arguments' schema out keeps the
            # stored one (0.1.x `upsert_from_function` always sends it: null without one).
            if "args_json_schema" in spec.model_fields_set:
                row.args_json_schema = spec.args_json_schema
            elif row.args_json_schema is not None:
                _, description, schema = _schema_for(
                    spec.source_code, spec.json_schema, row.args_json_schema
                )
            row.source_code = spec.source_code
            row.description = spec.description or description
            row.json_schema = schema
            # Letta's upsert changes only what the request names: no `tags`, same tags.
            if "tags" in spec.model_fields_set:
                row.tags = spec.tags
            if "return_char_limit" in spec.model_fields_set:
                row.return_char_limit = spec.return_char_limit
            if "metadata" in spec.model_fields_set:
                row.metadata_ = spec.metadata
            if spec.default_requires_approval is not None:
                row.default_requires_approval = spec.default_requires_approval
            await session.flush()
    return tool_view(row)


def _new_row(spec: ToolCreate, name: str, description: str, schema: dict[str, Any]) -> ToolRow:
    return ToolRow(
        id=new_id("tool"),
        name=name,
        description=spec.description or description,
        tags=spec.tags,
        source_code=spec.source_code,
        source_type=spec.source_type,
        json_schema=schema,
        args_json_schema=spec.args_json_schema,
        tool_type="custom",
        return_char_limit=spec.return_char_limit,
        metadata_=spec.metadata,
        default_requires_approval=bool(spec.default_requires_approval),
    )


async def base_tools(db: Database) -> list[Tool]:
    """0.1.x `add-base-tools`: Letta upserts its built-in tools and returns them. troupe
    stores this version's built-ins at every start (`sync_builtin_tools`), so this is the
    stored set, oldest first."""
    filters = tool_store.ToolFilter(type_prefix="letta_")
    async with db.read() as session:
        rows = await tool_store.list_tools(session, Page(limit=10_000, order="asc"), filters)
    return [tool_view(r) for r in rows]


async def get_tool(db: Database, tool_id: str) -> Tool:
    async with db.read() as session:
        return tool_view(await tool_store.get_tool(session, tool_id))


async def list_tools(
    db: Database,
    page: Page,
    *,
    names: Sequence[str] = (),
    search: str | None = None,
    tool_ids: Sequence[str] = (),
    tool_types: Sequence[str] = (),
    exclude_tool_types: Sequence[str] = (),
    only_letta_tools: bool = False,
) -> list[Tool]:
    """Tools narrowed by every filter given. Lists may come repeated or comma-separated."""
    filters = tool_store.ToolFilter(
        names=names,
        name_contains=search or None,
        ids=split_commas(tool_ids),
        types=split_commas(tool_types),
        excluded_types=split_commas(exclude_tool_types),
        type_prefix="letta_" if only_letta_tools else None,
    )
    async with db.read() as session:
        return [tool_view(r) for r in await tool_store.list_tools(session, page, filters)]


async def update_tool(db: Database, tool_id: str, changes: ToolUpdate) -> Tool:
    async with db.write() as session:
        row = await tool_store.get_tool(session, tool_id)
        if row.tool_type != "custom":
            raise Conflict(
                f"{row.name!r} is {_kind(row)} and cannot be changed here"
                + ("; refresh its server to update it" if row.tool_type == MCP_TOOL_TYPE else "")
            )
        fields = changes.model_fields_set
        new_args = "args_json_schema" in fields
        if changes.source_code is not None or changes.json_schema is not None or new_args:
            source = changes.source_code if changes.source_code is not None else row.source_code
            override = changes.json_schema if changes.json_schema is not None else None
            args_schema = changes.args_json_schema if new_args else row.args_json_schema
            name, description, schema = _schema_for(source or "", override, args_schema)
            row.args_json_schema = args_schema
            if name != row.name:
                clash = await tool_store.tool_by_name(session, name)
                _refuse_builtin(clash)
                if clash is not None:
                    raise Conflict(f"a tool named {name!r} already exists ({clash.id})")
            row.name, row.json_schema, row.source_code = name, schema, source
            if changes.description is None:
                row.description = description
        if changes.description is not None:
            row.description = changes.description
        if changes.tags is not None:
            row.tags = changes.tags
        if changes.return_char_limit is not None:
            row.return_char_limit = changes.return_char_limit
        if "metadata" in fields:
            row.metadata_ = changes.metadata
        if changes.default_requires_approval is not None:
            row.default_requires_approval = changes.default_requires_approval
        await session.flush()
    return tool_view(row)


async def delete_tool(db: Database, tool_id: str) -> None:
    async with db.write() as session:
        row = await tool_store.get_tool(session, tool_id)
        if row.tool_type not in ("custom", MCP_TOOL_TYPE):  # an MCP tool comes back on refresh
            raise Conflict(f"{row.name!r} is a built-in tool and cannot be deleted")
        await tool_store.delete_tool(session, tool_id)


async def sync_builtin_tools(db: Database, registry: ToolRegistry) -> None:
    """Make the stored built-in tools match this version's records (ids stay stable)."""
    async with db.write() as session:
        await db.lock_for_startup(session)
        for builtin in registry:
            row = await tool_store.tool_by_name(session, builtin.name)
            if row is None:
                row = ToolRow(id=new_id("tool"), name=builtin.name, tags=[], metadata_=None)
                session.add(row)
            row.tool_type = builtin.tool_type
            row.description = builtin.description
            row.source_code = builtin.source_code
            row.source_type = "python"
            row.json_schema = builtin.json_schema
            row.return_char_limit = row.return_char_limit or 6000
            row.tags = [builtin.tool_type]
