"""The tools of an imported Agent File: built-in ones found by name, user ones created (or,
when asked, rewritten) from their source. A tool's source is parsed and compiled to check
it and derive its schema, never run."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.errors import InvalidInput
from troupe.ids import new_id
from troupe.schemas.agent_file import ToolSchema
from troupe.store import tools as tool_store
from troupe.store.inserts import insert_rows
from troupe.store.tables import ToolRow
from troupe.tools.args_schema import check_args_schema, with_args_schema
from troupe.tools.registry import ToolRegistry
from troupe.tools.schema import derive_tool

DEFAULT_RETURN_CHAR_LIMIT = 50_000  # Letta's, when a file names none
MAX_RETURN_CHAR_LIMIT = 1_000_000  # what a tool created through the API may have


@dataclass
class ToolPlan:
    """What each of the file's tools becomes: by file id, a built-in tool's name or a user
    tool's new row; the tools this server cannot run (Letta's own tools it does not have,
    MCP tools) are listed by name and left out."""

    builtin: dict[str, str] = field(default_factory=dict)
    custom: dict[str, ToolRow] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)


def plan_tools(tools: list[ToolSchema], registry: ToolRegistry) -> ToolPlan:
    """Check every tool of the file (a clear 422 names the first bad one)."""
    plan = ToolPlan()
    names: set[str] = set()
    for tool in tools:
        name = tool.name or (tool.json_schema or {}).get("name")
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"agent file: tool {tool.id!r} has no name")
        if name in names:
            raise InvalidInput(f"agent file: two tools are named {name!r}")
        names.add(name)
        if name in registry:
            plan.builtin[tool.id] = name
        elif tool.tool_type in (None, "custom") and tool.source_code:
            plan.custom[tool.id] = _custom_row(tool, name)
        elif tool.tool_type in (None, "custom"):
            raise InvalidInput(f"agent file: tool {name!r} has no source code")
        else:
            plan.left_out.append(name)
    return plan


def _custom_row(tool: ToolSchema, name: str) -> ToolRow:
    source = tool.source_code or ""
    try:
        derived = derive_tool(source, function_name=name)
        if tool.args_json_schema is not None:
            check_args_schema(tool.args_json_schema)
    except InvalidInput as exc:
        raise InvalidInput(f"agent file: tool {name!r}: {exc.message}") from None
    schema = tool.json_schema or derived.json_schema
    if not tool.json_schema and tool.args_json_schema is not None:
        schema = with_args_schema(derived.json_schema, tool.args_json_schema)
    if not isinstance(schema.get("parameters", {}), dict):
        raise InvalidInput(f"agent file: tool {name!r} has a json_schema without `parameters`")
    limit = tool.return_char_limit or DEFAULT_RETURN_CHAR_LIMIT
    return ToolRow(
        id=new_id("tool"),
        name=name,
        description=tool.description or derived.description,
        tags=tool.tags or [],
        source_code=source,
        source_type="python",  # Letta writes "json" for some Python tools: the source says
        json_schema={**schema, "name": name},
        args_json_schema=tool.args_json_schema,
        tool_type="custom",
        return_char_limit=min(limit, MAX_RETURN_CHAR_LIMIT),
        metadata_=tool.metadata_,
        default_requires_approval=bool(tool.default_requires_approval),
    )


async def store_tools(
    session: AsyncSession, plan: ToolPlan, *, override_existing: bool
) -> dict[str, ToolRow]:
    """File id -> the row each kept tool is now: a built-in's, an existing user tool of the
    same name (rewritten from the file when `override_existing`), or a new one."""
    rows: dict[str, ToolRow] = {}
    for file_id, name in plan.builtin.items():
        found = await tool_store.tool_by_name(session, name)
        if found is None:  # built-ins are synced at start-up; a missing one is a bug
            raise RuntimeError(f"built-in tool {name!r} has no row")
        rows[file_id] = found
    new: list[ToolRow] = []
    for file_id, row in plan.custom.items():
        existing = await tool_store.tool_by_name(session, row.name)
        if existing is None:
            new.append(row)
            rows[file_id] = row
            continue
        if existing.tool_type != "custom":
            raise InvalidInput(
                f"agent file: tool {row.name!r} would replace this server's tool of that "
                "name; rename it in the file"
            )
        if override_existing:
            columns = ("source_code", "source_type", "json_schema", "args_json_schema")
            for column in (*columns, "description"):
                setattr(existing, column, getattr(row, column))
            existing.return_char_limit = row.return_char_limit
        rows[file_id] = existing
    await insert_rows(session, new)
    return rows
