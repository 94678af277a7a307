"""The classes of a tool's `args_json_schema`, made where the tool runs.

A tool created with letta-client's `create_from_function(func=f, args_schema=Model)` is sent
only `f`'s source, typed with classes that are not in it (`def manage_inventory(data:
InventoryEntry, ...)`), and the model's JSON schema. Here each model of the schema (its
`$defs`, and the arguments' own model, by its `title`) becomes a pydantic class of that name
with `pydantic.create_model`, never generated code; the tool's source runs with them in
its namespace; and the arguments are validated into them, so an argument typed with a model
arrives as an instance of it. A model the source defines itself is used instead of the one
made here (the source then says what the class is).

sandbox_child.py loads this file by its path, and only for a tool that has such a schema:
the sandbox's Python does not see troupe, and a tool without one costs nothing more. So it
imports nothing of troupe; pydantic comes from the server's own packages, as the tool's
imports do."""

import dataclasses
import datetime
import enum
import keyword
import uuid
from typing import Annotated, Any, ForwardRef, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

REF_PREFIX = "#/$defs/"
ARGUMENTS_NAME = "ToolArguments"  # the arguments' model when the schema has no usable title
MAX_ERRORS_SHOWN = 10
_FORMATS: dict[str, Any] = {
    "date-time": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "uuid": uuid.UUID,
}
_SIMPLE: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
# JSON schema's validation keywords, as pydantic's Field takes them, and the values each
# may have (others are left out, as a schema validator ignores what it cannot apply).
_BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt"}
_LENGTHS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
}


class ArgumentsDoNotFit(Exception):
    """The model's arguments fail the schema: the text says where and why, for the model."""


class ArgumentModels:
    """The schema's classes by name (`namespace`) and the model of the arguments."""

    Unfit = ArgumentsDoNotFit  # for sandbox_child.py, which loads this file by its path
    arguments: type[BaseModel]

    def __init__(self, schema: dict[str, Any], own: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs") or {}
        self.own = own or {}
        self.namespace: dict[str, Any] = {}
        self._build()

    def with_own_classes(self, tool_namespace: dict[str, Any]) -> "ArgumentModels":
        """These models, or (when the tool's source defines models of the same names) ones
        that use the source's classes instead."""
        own = {
            name: found
            for name in self.namespace
            if (found := tool_namespace.get(name)) is not self.namespace[name]
            and _usable_class(found)
        }
        return ArgumentModels(self.schema, own) if own else self

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments with those the schema describes validated into its types (models
        as instances); others (none, once the server has checked them) are left as sent."""
        fields = {(info.alias or name): name for name, info in self.arguments.model_fields.items()}
        given = {key: value for key, value in arguments.items() if key in fields}
        try:
            instance = self.arguments.model_validate(given)
        except ValidationError as exc:
            raise ArgumentsDoNotFit(_explained(exc)) from None
        return {**arguments, **{key: getattr(instance, fields[key]) for key in given}}

    def _build(self) -> None:
        made: list[type[BaseModel]] = []
        for name, node in self.defs.items():
            if name in self.own:
                self.namespace[name] = self.own[name]
            elif _is_object(node):
                made.append(self._model(name, node))
                self.namespace[name] = made[-1]
            elif isinstance(node, dict) and isinstance(node.get("enum"), list):
                self.namespace[name] = _enum(name, node["enum"])
            else:
                self.namespace[name] = self._type(node)
        top_ref = self.schema.get("$ref")
        if isinstance(top_ref, str) and "properties" not in self.schema:
            model = self.namespace[top_ref[len(REF_PREFIX) :]]
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise ValueError(f"the schema's $ref {top_ref!r} names no model")
            self.arguments = model
        else:
            title = self.schema.get("title")
            usable = isinstance(title, str) and _is_name(title) and title not in self.defs
            name = str(title) if usable else ARGUMENTS_NAME
            self.arguments = self._model(name, self.schema)
            made.append(self.arguments)
            if usable:
                self.namespace[name] = self.arguments
        for model in made:  # references between the models resolve once all exist
            model.model_rebuild(_types_namespace=dict(self.namespace))

    def _model(self, name: str, node: dict[str, Any]) -> type[BaseModel]:
        required = set(node.get("required") or [])
        properties = node.get("properties") or {}
        fields: dict[str, Any] = {}
        for index, (field, part) in enumerate(properties.items()):
            annotation = self._type(part)
            settings: dict[str, Any] = {}
            if isinstance(part, dict) and isinstance(part.get("description"), str):
                settings["description"] = part["description"]
            python_name = _python_name(field, index, taken=properties)
            if python_name != field:
                settings["alias"] = field
            if field in required:
                default: Any = ...
            elif isinstance(part, dict) and "default" in part:
                default = part["default"]
            else:  # optional without a default: None, as pydantic models have it
                default, annotation = None, Optional[annotation]  # noqa: UP045
            fields[python_name] = (annotation, Field(default, **settings))
        forbid = node.get("additionalProperties") is False
        config = ConfigDict(
            extra="forbid" if forbid else "ignore", populate_by_name=True, protected_namespaces=()
        )
        model: type[BaseModel] = create_model(
            name, __config__=config, __module__="__tool__", **fields
        )
        return model

    def _type(self, node: Any) -> Any:
        """The Python type a schema describes (Any for what it does not narrow)."""
        if not isinstance(node, dict):
            return Any
        if isinstance(node.get("$ref"), str):
            return ForwardRef(node["$ref"][len(REF_PREFIX) :])
        members = node.get("allOf")
        if isinstance(members, list) and len(members) == 1:
            return self._type(members[0])
        for union in ("anyOf", "oneOf"):
            if isinstance(node.get(union), list) and node[union]:
                return _union([self._type(m) for m in node[union]])
        if "const" in node and _is_literal(node["const"]):
            return Literal[node["const"]]
        if isinstance(node.get("enum"), list) and node["enum"]:
            values = node["enum"]
            return Literal[tuple(values)] if all(map(_is_literal, values)) else Any
        kind = node.get("type")
        if isinstance(kind, list):
            return _union([self._type({**node, "type": k}) for k in kind])
        return _constrained(self._typed(kind, node), node)

    def _typed(self, kind: Any, node: dict[str, Any]) -> Any:
        if kind == "string" and node.get("format") in _FORMATS:
            return _FORMATS[node["format"]]
        if kind in _SIMPLE:
            return _SIMPLE[kind]
        if kind == "array":
            items = node.get("items")
            return list[self._type(items)] if isinstance(items, dict) else list[Any]  # type: ignore[misc]
        values = node.get("additionalProperties")
        if kind == "object" and isinstance(values, dict) and not node.get("properties"):
            return dict[str, self._type(values)]  # type: ignore[misc]
        if kind == "object" or "properties" in node:
            return dict[str, Any]  # an object the schema leaves unnamed stays a dict
        return Any


def _usable_class(found: Any) -> bool:
    """A class pydantic can validate into: a model, an enum or a dataclass."""
    if not isinstance(found, type):
        return False
    return issubclass(found, BaseModel | enum.Enum) or dataclasses.is_dataclass(found)


def _is_object(node: Any) -> bool:
    return isinstance(node, dict) and (node.get("type") == "object" or "properties" in node)


def _is_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _is_field_name(name: str) -> bool:
    return _is_name(name) and not name.startswith("_") and not hasattr(BaseModel, name)


def _python_name(field: str, index: int, taken: dict[str, Any]) -> str:
    """The attribute a field is read by: its own name when pydantic allows it, else (with
    the name as its alias, so it is still sent so) `class_` for `class` or `json_` for
    `json`, as pydantic users write them, or `field_N` for the rest (`_id`, `a-b`)."""
    if _is_field_name(field):
        return field
    suffixed = f"{field}_"
    if _is_field_name(suffixed) and suffixed not in taken:
        return suffixed
    return f"field_{index}"


def _is_literal(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _union(types: list[Any]) -> Any:
    unique = list(dict.fromkeys(types))
    return unique[0] if len(unique) == 1 else Union[tuple(unique)]  # noqa: UP007


def _constrained(python_type: Any, node: dict[str, Any]) -> Any:
    limits: dict[str, Any] = {}
    for keyword_, value in node.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if keyword_ in _BOUNDS and number:
            limits[_BOUNDS[keyword_]] = value
        elif keyword_ == "multipleOf" and number and value > 0:
            limits["multiple_of"] = value
        elif keyword_ in _LENGTHS and isinstance(value, int) and not isinstance(value, bool):
            limits[_LENGTHS[keyword_]] = max(value, 0)
        elif keyword_ == "pattern" and isinstance(value, str):
            limits["pattern"] = value
    return Annotated[python_type, Field(**limits)] if limits else python_type


def _enum(name: str, values: list[Any]) -> Any:
    """A def that is a list of values (a Python Enum's schema) as an Enum of that name."""
    if not values or not all(_is_literal(v) for v in values):
        return Any
    members: dict[str, Any] = {}
    for index, value in enumerate(values):
        key = value if isinstance(value, str) and _is_field_name(value) else f"VALUE_{index}"
        members[key if key not in members else f"VALUE_{index}"] = value
    mixin = str if all(isinstance(v, str) for v in values) else object
    return enum.Enum(name, members, type=mixin, module="__tool__")


def _explained(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False)[:MAX_ERRORS_SHOWN]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return (
        "the arguments do not fit the tool's args_json_schema: "
        + "; ".join(problems)
        + ". Call it again with arguments that fit its parameters."
    )
