"""Grammar-constrained tool calls: the model can only write one JSON object naming a tool it
may call at this step, with arguments that fit that tool's schema and strings of capped
length (JSON schema -> llama.cpp's GBNF). The string constraints of a parameter's schema hold:
`enum` and `const` (only those values), `minLength` / `maxLength` (within the cap), and
`pattern`. A pattern takes precedence over the lengths (llama.cpp's converter writes a string
rule from one or the other), so a pattern bounds its own length with `{m,n}`; an unanchored
pattern may have any text around it, as JSON Schema reads it.

A tool offering `request_heartbeat` is always called with it true: a small model never
writes an optional flag and decides a required one by chance, and without it a turn ends
on a memory edit with no reply; the turn ends on send_message, a tool rule or max_steps."""

import json
from typing import Any

from troupe.llm.base import ModelError, ToolSpec

HEARTBEAT = "request_heartbeat"  # the agent loop's "call me again after this tool" flag
STRING_CAP = 400  # characters per generated string (llama.cpp rejects grammars past ~1000)
ARRAY_CAP = 8  # items per generated array


def call_schema(tools: list[ToolSpec], budget: int) -> dict[str, Any]:
    """One JSON object naming one allowed tool, with arguments fitting its parameters; each
    string is capped so that a call fits the token budget in all but freak cases."""
    slots = max(_string_slots(t.parameters) for t in tools) or 1
    cap = _string_cap(slots, budget)
    options = [_call_option(t.name, _capped(_without_heartbeat(t.parameters), cap)) for t in tools]
    return options[0] if len(options) == 1 else {"anyOf": options}


def answer_schema(schema: dict[str, Any], budget: int) -> dict[str, Any]:
    """A plain answer (no tool offered) that is one JSON value of `schema`, its strings
    capped like a tool call's."""
    return dict(_capped(schema, _string_cap(_string_slots(schema) or 1, budget)))


def _string_cap(slots: int, budget: int) -> int:
    return max(16, min(STRING_CAP, 3 * max(budget - 24, 16) // slots))


def call_grammar(llm: Any, tools: list[ToolSpec], budget: int) -> Any:
    """The llama.cpp grammar for `call_schema`. A tool schema llama.cpp cannot take (it
    would crash on it, not fail) falls back to 'any JSON object' for that tool's arguments."""
    loose = [_call_option(t.name, {"type": "object"}) for t in tools]
    return json_grammar(
        llm, call_schema(tools, budget), loose[0] if len(loose) == 1 else {"anyOf": loose}
    )


def answer_grammar(llm: Any, schema: dict[str, Any], budget: int) -> Any:
    """The llama.cpp grammar for `answer_schema` (any JSON object if llama.cpp cannot take it)."""
    return json_grammar(llm, answer_schema(schema, budget), {"type": "object"})


def json_grammar(llm: Any, schema: dict[str, Any], fallback: dict[str, Any]) -> Any:
    """The llama.cpp grammar of a JSON schema, or of `fallback` if llama.cpp rejects it."""
    from llama_cpp import LlamaGrammar

    gbnf = _gbnf_if_valid(llm, schema) or _gbnf_if_valid(llm, fallback)
    if gbnf is None:
        raise ModelError("llama.cpp rejected even the plain JSON grammar")
    return LlamaGrammar.from_string(gbnf, verbose=False)


def _call_option(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"const": name}, "arguments": arguments},
        "required": ["name", "arguments"],
    }


def _gbnf_if_valid(llm: Any, schema: dict[str, Any]) -> str | None:
    """The GBNF text, if llama.cpp's own parser accepts it. llama-cpp-python hands a rejected
    grammar on as a null sampler, and the process dies, so it is tried here first."""
    import llama_cpp
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf = json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # the converter raises whatever it meets on a schema it cannot read
        return None
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
    if not sampler:
        return None
    llama_cpp.llama_sampler_free(sampler)
    return gbnf


def _capped(schema: Any, cap: int) -> Any:
    """The schema with every string and array length bounded, and no free-form extras."""
    if isinstance(schema, list):
        return [_capped(s, cap) for s in schema]
    if not isinstance(schema, dict):
        return schema
    dropped = {"description", "title", "default", "examples", "format"}
    capped = {k: _capped(v, cap) for k, v in schema.items() if k not in dropped}
    if "properties" in schema:  # property names are data here, not keywords
        capped["properties"] = {k: _capped(v, cap) for k, v in schema["properties"].items()}
        capped.setdefault("additionalProperties", False)
    if isinstance(schema.get("pattern"), str):
        capped["pattern"] = anchored(schema["pattern"])
    elif capped.get("type") == "string" and "enum" not in capped and "const" not in capped:
        capped["maxLength"] = min(int(capped.get("maxLength", cap)), cap)
        capped["minLength"] = min(int(capped.get("minLength", 0)), capped["maxLength"])
    if capped.get("type") == "array":
        capped["maxItems"] = min(int(capped.get("maxItems", ARRAY_CAP)), ARRAY_CAP)
        capped["minItems"] = min(int(capped.get("minItems", 0)), capped["maxItems"])
    return capped


# Free text around an unanchored pattern: any character but those that end or escape a
# JSON string (the converter writes pattern characters into the JSON string as they are).
UNANCHORED = '[^"\\\\]*'


def anchored(pattern: str) -> str:
    """The pattern as llama.cpp's converter takes it (anchored at both ends). JSON Schema
    matches a pattern anywhere in the string, so an open end admits any text there."""
    pattern = _escapes_as_classes(pattern)
    opened = pattern.startswith("^")
    body = pattern[1:] if opened else pattern
    closed = body.endswith("$") and not body.endswith("\\$")
    body = body[:-1] if closed else body
    return (
        "^"
        + ("" if opened else UNANCHORED)
        + "("
        + body
        + ")"
        + ("" if closed else UNANCHORED)
        + "$"
    )


def _escapes_as_classes(pattern: str) -> str:
    """`\\.` and the like outside a character class as `[.]`: the converter copies such an
    escape into a GBNF literal as it is, and llama.cpp's parser rejects it ("unknown
    escape"), which would leave the tool with no grammar at all."""
    out, in_class, index = [], False, 0
    while index < len(pattern):
        char = pattern[index]
        follows = pattern[index + 1] if index + 1 < len(pattern) else ""
        if char == "\\" and follows and not in_class and not follows.isalnum():
            out.append(f"[{follows}]" if follows not in "]^-\\" else f"[\\{follows}]")
            index += 2
            continue
        if char == "\\" and follows:  # an escape kept as it is: \d, or one inside a class
            out.append(char + follows)
            index += 2
            continue
        in_class = (in_class or char == "[") and not (in_class and char == "]")
        out.append(char)
        index += 1
    return "".join(out)


def _without_heartbeat(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters the model writes: the heartbeat flag is set on its behalf."""
    properties = parameters.get("properties") or {}
    if HEARTBEAT not in properties:
        return parameters
    required = [r for r in parameters.get("required") or [] if r != HEARTBEAT]
    kept = {k: v for k, v in properties.items() if k != HEARTBEAT}
    return {**parameters, "properties": kept, "required": required}


def _string_slots(schema: Any) -> int:
    """How many free strings a value of this schema can hold at most."""
    if not isinstance(schema, dict):
        return 0
    if schema.get("type") == "string" and "enum" not in schema and "const" not in schema:
        return 1
    if schema.get("type") == "array":
        return ARRAY_CAP * _string_slots(schema.get("items"))
    properties = schema.get("properties") or {}
    return sum(_string_slots(p) for p in properties.values())
