"""Derive a tool's name, description and JSON schema from Python source.

The source is parsed with `ast`, never executed: user code only ever runs in the sandbox.
"""

import ast
from dataclasses import dataclass
from typing import Any

import docstring_parser

from troupe.errors import InvalidInput

# Parameters the runtime fills in itself; the model never sees them.
INJECTED_PARAMETERS = frozenset({"self", "agent_state", "ctx"})

_SIMPLE_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "Any": {},
    "object": {},
}


@dataclass(frozen=True)
class DerivedTool:
    name: str
    description: str
    json_schema: dict[str, Any]


def derive_tool(source_code: str, *, function_name: str | None = None) -> DerivedTool:
    """The schema of `function_name`, or of the last top-level function in the source."""
    try:
        module = ast.parse(source_code)
    except SyntaxError as exc:
        raise InvalidInput(
            f"tool source does not parse: {exc.msg} (line {exc.lineno}). "
            "Send the complete source of a Python function."
        ) from None
    except ValueError as exc:  # e.g. null bytes
        raise InvalidInput(f"tool source does not parse: {exc}") from None
    functions = [
        node for node in module.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    if not functions:
        raise InvalidInput("tool source defines no function: define one top-level `def`.")
    if function_name is not None:
        matching = [fn for fn in functions if fn.name == function_name]
        if not matching:
            raise InvalidInput(f"tool source has no function named {function_name!r}")
        function = matching[-1]
    else:
        function = functions[-1]
    return _describe(function)


def _describe(function: ast.FunctionDef | ast.AsyncFunctionDef) -> DerivedTool:
    doc = docstring_parser.parse(ast.get_docstring(function) or "")
    param_docs = {p.arg_name: (p.description or "") for p in doc.params}
    description = "\n\n".join(
        part for part in (doc.short_description, doc.long_description) if part
    )

    args = function.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    pairs = list(zip(positional, defaults, strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))

    properties: dict[str, Any] = {}
    required: list[str] = []
    for arg, default in pairs:
        if arg.arg in INJECTED_PARAMETERS:
            continue
        schema, optional = _annotation_schema(arg.annotation)
        if param_docs.get(arg.arg):
            schema = {**schema, "description": param_docs[arg.arg]}
        properties[arg.arg] = schema
        if default is None and not optional:
            required.append(arg.arg)

    return DerivedTool(
        name=function.name,
        description=description,
        json_schema={
            "name": function.name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    )


def _annotation_schema(node: ast.expr | None) -> tuple[dict[str, Any], bool]:
    """JSON schema for an annotation, and whether it admits None (so may be left out)."""
    if node is None:
        return {}, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "str" forward ref
        try:
            return _annotation_schema(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {}, False
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}, True
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return dict(_SIMPLE_TYPES.get(name, {})), False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        return _union([node.left, node.right])
    if isinstance(node, ast.Subscript):
        value = node.value
        outer = value.id if isinstance(value, ast.Name) else getattr(value, "attr", "")
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer == "Optional":
            schema, _ = _annotation_schema(items[0])
            return schema, True
        if outer == "Union":
            return _union(items)
        if outer in {"list", "List", "Sequence", "Iterable", "set", "Set", "tuple", "Tuple"}:
            item_schema, _ = _annotation_schema(items[0])
            return {"type": "array", "items": item_schema}, False
        if outer in {"dict", "Dict", "Mapping"}:
            return {"type": "object"}, False
        if outer == "Literal":
            values = [i.value for i in items if isinstance(i, ast.Constant)]
            return {"enum": values}, None in values
        if outer == "Annotated":
            return _annotation_schema(items[0])
    return {}, False


def _union(members: list[ast.expr]) -> tuple[dict[str, Any], bool]:
    schemas = []
    optional = False
    for member in members:
        schema, member_optional = _annotation_schema(member)
        if schema.get("type") == "null":
            optional = True
            continue
        optional = optional or member_optional
        schemas.append(schema)
    if len(schemas) == 1:
        return schemas[0], optional
    return {"anyOf": schemas}, optional
