"""Derive a tool's name, description and JSON schema from Python source.

The source is parsed with `ast`, never executed: user code only ever runs in the sandbox.
"""

import ast
import math
import warnings
from dataclasses import dataclass
from typing import Any

import docstring_parser

from troupe.errors import InvalidInput
from troupe.schemas.common import find_unstorable

# Parameters the runtime fills in itself; the model never sees them.
INJECTED_PARAMETERS = frozenset({"self", "agent_state", "ctx"})
# Tool names are stored in a column of this width, and providers cap them lower still.
MAX_NAME_LENGTH = 255
# Models spelled out in one schema at most: past it a model is a plain object, so that
# models naming each other many times over cannot grow a schema without end.
MAX_MODEL_EXPANSIONS = 100

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
    module = _parse(source_code)
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
    if len(function.name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"tool function name is {len(function.name)} characters long; "
            f"use at most {MAX_NAME_LENGTH}"
        )
    try:
        derived = _describe(function, _Schemas(_models_of(module)))
    except RecursionError:  # e.g. `int | int | ...` thousands of times
        raise InvalidInput(
            f"the annotations of {function.name!r} nest too deeply; simplify them"
        ) from None
    if bad := find_unstorable(derived.json_schema):
        raise InvalidInput(
            f"the docstring or annotations of {function.name!r} hold {bad}, "
            "which cannot be stored; remove it"
        )
    return derived


def _parse(source_code: str) -> ast.Module:
    """Parse and compile (never run) the source, so that what only the compiler refuses
    (a duplicate argument, `return` outside a function) is refused now, not at the first call."""
    try:
        with warnings.catch_warnings():  # e.g. invalid escapes: the user's business, not ours
            warnings.simplefilter("ignore")
            module = ast.parse(source_code)
            compile(module, "<tool>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise InvalidInput(
            f"tool source does not parse: {exc.msg}{where}. "
            "Send the complete source of a Python function."
        ) from None
    except ValueError as exc:  # e.g. null bytes, on older Pythons
        raise InvalidInput(f"tool source does not parse: {exc}") from None
    except (MemoryError, RecursionError):  # CPython's parser on absurdly deep nesting
        raise InvalidInput(
            "tool source does not parse: it nests too deeply; simplify the expressions"
        ) from None
    return module


def _parse_docstring(text: str) -> docstring_parser.Docstring:
    try:
        return docstring_parser.parse(text)
    except Exception:  # the parser has crashed on odd text (e.g. ": :"); keep the prose
        fallback = docstring_parser.Docstring()
        fallback.short_description = text.strip() or None
        return fallback


def _describe(function: ast.FunctionDef | ast.AsyncFunctionDef, schemas: "_Schemas") -> DerivedTool:
    doc = _parse_docstring(ast.get_docstring(function) or "")
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
        schema = schemas.of(arg.annotation)
        if param_docs.get(arg.arg):
            schema = {**schema, "description": param_docs[arg.arg]}
        properties[arg.arg] = schema
        # What Python demands: a parameter without a default must be passed, even one
        # typed Optional; marking it optional would let the model omit it and fail the call.
        if default is None:
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


def _models_of(module: ast.Module) -> dict[str, ast.ClassDef]:
    """The source's top-level pydantic models (a class based on `BaseModel` or on another of
    them), by name: a parameter typed with one is described by its fields, as Letta does."""
    models: dict[str, ast.ClassDef] = {}
    for node in module.body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
        if "BaseModel" in bases or bases & models.keys():
            models[node.name] = node
    return models


class _Schemas:
    """Annotations as JSON schema, knowing the source's pydantic models by name."""

    def __init__(self, models: dict[str, ast.ClassDef]) -> None:
        self.models = models
        self.expanding: set[str] = set()  # a model that refers to itself stops there
        self.expansions_left = MAX_MODEL_EXPANSIONS

    def of(self, node: ast.expr | None) -> dict[str, Any]:
        """JSON schema for an annotation; None and unknown types give the least said (`{}`)."""
        if node is None:
            return {}
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "str" forward ref
            try:
                return self.of(ast.parse(node.value, mode="eval").body)
            except (SyntaxError, ValueError, MemoryError):
                return {}
        if isinstance(node, ast.Constant) and node.value is None:
            return {"type": "null"}
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in self.models:
                return self.model(name)
            return dict(_SIMPLE_TYPES.get(name, {}))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | Y | None
            return self.union(_union_members(node))
        if isinstance(node, ast.Subscript):
            value = node.value
            outer = value.id if isinstance(value, ast.Name) else getattr(value, "attr", "")
            inner = node.slice
            items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
            if not items:  # `X[()]`
                return {}
            if outer in {"Optional", "Annotated"}:
                return self.union(items[:1])
            if outer == "Union":
                return self.union(items)
            if outer in {"list", "List", "Sequence", "Iterable", "set", "Set", "tuple", "Tuple"}:
                return {"type": "array", "items": self.of(items[0])}
            if outer in {"dict", "Dict", "Mapping"}:
                return {"type": "object"}
            if outer == "Literal":
                values = [v for v in map(_literal_value, items) if v is not _NOT_JSON]
                return {"enum": values} if values else {}
        return {}

    def union(self, members: list[ast.expr]) -> dict[str, Any]:
        """The schemas of the members other than None: one, or `anyOf` several. None is left
        out as Letta does: whether a parameter may be omitted is its default's business."""
        schemas = [schema for schema in map(self.of, members) if schema.get("type") != "null"]
        if len(schemas) <= 1:
            return schemas[0] if schemas else {}
        return {"anyOf": schemas}

    def model(self, name: str) -> dict[str, Any]:
        """An object of the model's annotated fields (its base models' first); a field is
        required unless it has a default (`= x`, `Field(x)`, `Field(default=...)`)."""
        if name in self.expanding or self.expansions_left <= 0:
            return {"type": "object"}
        self.expansions_left -= 1
        self.expanding.add(name)
        try:
            properties: dict[str, Any] = {}
            required: list[str] = []
            for node in self._lineage(self.models[name]):
                for statement in node.body:
                    if not (
                        isinstance(statement, ast.AnnAssign)
                        and isinstance(statement.target, ast.Name)
                    ):
                        continue
                    field = statement.target.id
                    schema = self.of(statement.annotation)
                    description, has_default = _field_settings(statement.value)
                    if description:
                        schema = {**schema, "description": description}
                    properties[field] = schema
                    if field in required:
                        required.remove(field)
                    if not has_default:
                        required.append(field)
            return {"type": "object", "properties": properties, "required": required}
        finally:
            self.expanding.discard(name)

    def _lineage(self, node: ast.ClassDef) -> list[ast.ClassDef]:
        """The model and the source's models it is based on, bases first."""
        line: list[ast.ClassDef] = []
        pending = [node]
        while pending:
            current = pending.pop()
            if current in line:
                continue
            line.insert(0, current)
            for base in current.bases:
                base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                if base_name in self.models:
                    pending.append(self.models[base_name])
        return line


def _field_settings(value: ast.expr | None) -> tuple[str, bool]:
    """A model field's description and whether it has a default, from what it is assigned."""
    if value is None:
        return "", False
    is_field = isinstance(value, ast.Call) and (
        getattr(value.func, "id", None) == "Field" or getattr(value.func, "attr", None) == "Field"
    )
    if not is_field:
        return "", True
    assert isinstance(value, ast.Call)
    keywords = {k.arg: k.value for k in value.keywords if k.arg}
    described = keywords.get("description")
    description = (
        described.value
        if isinstance(described, ast.Constant) and isinstance(described.value, str)
        else ""
    )
    first = value.args[0] if value.args else None
    given = first is not None and not (isinstance(first, ast.Constant) and first.value is Ellipsis)
    return description, given or "default" in keywords or "default_factory" in keywords


_NOT_JSON = object()


def _literal_value(node: ast.expr) -> Any:
    """A Literal member as a JSON value, or _NOT_JSON (bytes, Ellipsis, inf, ...)."""
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    if negative:
        node = node.operand  # type: ignore[attr-defined]
    if not isinstance(node, ast.Constant):
        return _NOT_JSON
    value = node.value
    if isinstance(value, bool) or value is None:
        return _NOT_JSON if negative else value
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isinf(value)):
        return -value if negative else value
    if isinstance(value, str) and not negative:
        return value
    return _NOT_JSON


def _union_members(node: ast.BinOp) -> list[ast.expr]:
    """`A | B | C` as [A, B, C], without recursing once per `|`."""
    members: list[ast.expr] = []
    pending: list[ast.expr] = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, ast.BinOp) and isinstance(item.op, ast.BitOr):
            pending += [item.right, item.left]
        else:
            members.append(item)
    return members
