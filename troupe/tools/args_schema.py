"""A tool's `args_json_schema`: the JSON schema of its arguments as one pydantic model (what
letta-client's `create_from_function(func=..., args_schema=Model)` sends, the model's
`model_json_schema()`), checked when it is stored and turned into the parameters the model
is offered.

The parameters spell every `$ref` out in place, as Letta did, without `$defs` or titles:
OpenAI, Anthropic and troupe's local grammar all take a plain nested schema, and a model
reads it more easily. The classes themselves exist only where the tool runs (see
sandbox_models.py)."""

import json
import keyword
from typing import Any

from troupe.errors import InvalidInput
from troupe.schemas.common import find_unstorable

# As long as the source a tool may have: no model's arguments need more.
MAX_ARGS_SCHEMA_CHARS = 200_000
# Models spelled out in the parameters at most, as for the source's own models (schema.py).
MAX_EXPANSIONS = 100
REF_PREFIX = "#/$defs/"
# Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_ONE_SCHEMA = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties")


def check_args_schema(schema: dict[str, Any]) -> None:
    """Refuse (InvalidInput, a 422) a schema the tool could not be described or run with."""
    if bad := find_unstorable(schema):  # first: it also bounds the nesting
        raise InvalidInput(f"args_json_schema holds {bad}, which cannot be stored; remove it")
    text = json.dumps(schema)
    if len(text) > MAX_ARGS_SCHEMA_CHARS:
        raise InvalidInput(
            f"args_json_schema is {len(text)} characters of JSON; use at most "
            f"{MAX_ARGS_SCHEMA_CHARS}"
        )
    defs = schema.get("$defs", {})
    if not isinstance(defs, dict) or not all(isinstance(d, dict) for d in defs.values()):
        raise InvalidInput("args_json_schema `$defs` must map names to schemas (JSON objects)")
    for name, model in defs.items():
        if not _is_class_name(name):
            raise InvalidInput(
                f"args_json_schema defines {name!r}, which cannot be a Python class name: "
                "the tool's code refers to its models by name"
            )
        _check_fields(model, f"`$defs.{name}` ")
    _check_refs(schema, defs)  # no deeper than find_unstorable lets a value be
    top = _arguments_object(schema, defs)
    for name in top.get("properties", {}):
        if not name.isidentifier() or keyword.iskeyword(name):
            raise InvalidInput(
                f"args_json_schema names the argument {name!r}, which cannot be a Python "
                "parameter name"
            )


def with_args_schema(derived: dict[str, Any], args_schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's schema derived from its source (name, description, documented parameters)
    with its parameters from its `args_json_schema` instead."""
    documented = (derived.get("parameters") or {}).get("properties") or {}
    descriptions = {p: str(s.get("description") or "") for p, s in documented.items()}
    try:
        parameters = parameters_from_args_schema(args_schema, descriptions)
    except RecursionError:  # models spelled out inside models, each deep (the budget allows it)
        raise InvalidInput("args_json_schema nests too deeply; simplify it") from None
    schema = {**derived, "parameters": parameters}
    if bad := find_unstorable(schema):
        raise InvalidInput(f"args_json_schema holds {bad}, which cannot be stored; remove it")
    return schema


def parameters_from_args_schema(
    schema: dict[str, Any], descriptions: dict[str, str]
) -> dict[str, Any]:
    """The tool's `parameters`: the arguments' properties with their models spelled out in
    place, and what is required. An argument the schema leaves undescribed takes its
    description from the docstring (`descriptions`). The schema must have passed
    `check_args_schema`."""
    defs = schema.get("$defs", {})
    top = _arguments_object(schema, defs)
    inliner = _Inliner(defs)
    if top is not schema:  # the arguments are a model of `$defs`: inside it, it stays an object
        inliner.expanding.add(schema["$ref"][len(REF_PREFIX) :])
    properties: dict[str, Any] = {}
    for name, node in top.get("properties", {}).items():
        spelled = inliner.spell(_as_object(node))
        if not spelled.get("description") and descriptions.get(name):
            spelled = {**spelled, "description": descriptions[name]}
        properties[name] = spelled
    required = [r for r in top.get("required", []) if r in properties]
    return {"type": "object", "properties": properties, "required": required}


def _as_object(node: dict[str, Any] | bool) -> dict[str, Any]:
    """JSON schema's `true` (anything) and `false` (nothing) as the objects they mean."""
    if isinstance(node, bool):
        return {} if node else {"not": {}}
    return node


def _is_class_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _arguments_object(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The object the arguments are: the schema itself, or the model its top `$ref` names
    (pydantic writes a recursive model that way)."""
    top = schema
    if "$ref" in schema and "properties" not in schema:
        top = defs[_ref_name(schema["$ref"], defs)]
        if top.get("type") != "object" and "properties" not in top:
            raise InvalidInput(
                "args_json_schema's `$ref` must name a model: an object with `properties`"
            )
    kind = top.get("type", "object")
    properties = top.get("properties", {})
    if kind != "object" or not isinstance(properties, dict):
        raise InvalidInput(
            'args_json_schema must describe an object (`"type": "object"` with '
            "`properties`): the tool's arguments by name"
        )
    _check_fields(top, "")
    return top


def _check_fields(model: dict[str, Any], where: str) -> None:
    """A model's `properties` map names to schemas and its `required` lists names."""
    properties = model.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(p, dict | bool) for p in properties.values()
    ):
        raise InvalidInput(f"args_json_schema {where}`properties` must map names to schemas")
    required = model.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise InvalidInput(f"args_json_schema {where}`required` must be a list of names")


def _ref_name(ref: Any, defs: dict[str, Any]) -> str:
    if (
        not isinstance(ref, str)
        or not ref.startswith(REF_PREFIX)
        or ref[len(REF_PREFIX) :] not in defs
    ):
        raise InvalidInput(
            f"args_json_schema refers to {ref!r}; a `$ref` must name one of its own `$defs` "
            f"({REF_PREFIX}<Name>)"
        )
    return ref[len(REF_PREFIX) :]


def _check_refs(node: Any, defs: dict[str, Any]) -> None:
    """Every `$ref` in the schema `node` names one of `defs` (walked by the keywords that
    hold schemas: a property may well be called `enum` or `default`)."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        _ref_name(node["$ref"], defs)
    for key, value in node.items():
        if key in _ONE_SCHEMA:
            _check_refs(value, defs)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for item in value:
                _check_refs(item, defs)
        elif key in (*_SCHEMA_MAPS, "$defs") and isinstance(value, dict):
            for item in value.values():
                _check_refs(item, defs)


class _Inliner:
    """Schemas with their `$ref`s spelled out; a model inside itself, or past the budget,
    stays a plain object, so no schema grows without end."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.expanding: set[str] = set()
        self.expansions_left = MAX_EXPANSIONS

    def spell(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self._referred(node)
        if _single_all_of(node):  # pydantic 1 wrote a described reference as allOf: [ref]
            rest = {k: v for k, v in node.items() if k != "allOf"}
            return self.spell({**node["allOf"][0], **rest})
        spelled: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("title", "$defs", "$schema"):
                continue
            if key in _ONE_SCHEMA:
                spelled[key] = self.spell(value)
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                spelled[key] = [self.spell(v) for v in value]
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                spelled[key] = {name: self.spell(v) for name, v in value.items()}
            else:
                spelled[key] = value
        return _without_null_members(spelled)

    def _referred(self, node: dict[str, Any]) -> dict[str, Any]:
        name = node["$ref"][len(REF_PREFIX) :]
        beside = self.spell({k: v for k, v in node.items() if k != "$ref"})
        if name in self.expanding or self.expansions_left <= 0:
            return {"type": "object", **beside}
        self.expansions_left -= 1
        self.expanding.add(name)
        try:
            # What the reference says of itself (its description) wins over the model's.
            return {**self.spell(self.defs[name]), **beside}
        finally:
            self.expanding.discard(name)


def _single_all_of(node: dict[str, Any]) -> bool:
    members = node.get("allOf")
    return isinstance(members, list) and len(members) == 1 and isinstance(members[0], dict)


def _without_null_members(node: dict[str, Any]) -> dict[str, Any]:
    """`Optional[X]` as X, as troupe's own schemas and Letta's show it: whether an argument
    may be left out is `required`'s business. Other unions stay `anyOf`."""
    members = node.get("anyOf")
    if not isinstance(members, list):
        return node
    kept = [m for m in members if not (isinstance(m, dict) and m.get("type") == "null")]
    if len(kept) == len(members) or not kept:
        return node
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if len(kept) == 1 and isinstance(kept[0], dict):
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}
