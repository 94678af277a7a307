"""What the model is shown of the agent at one step: the system prompt with the memory
blocks as they are in the store right now, and the tools it may call."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from troupe.llm.base import ToolSpec
from troupe.store.step_reads import PromptBlock
from troupe.tools.registry import BuiltinTool

HEARTBEAT_PARAMETER = "request_heartbeat"
# Short on purpose: the embedded model reads about 80 tokens a second.
DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful agent with persistent memory. Your memory blocks are shown below and "
    "stay with you across conversations; keep them up to date with the memory tools. "
    "Act only through tool calls. Reply to whoever messaged you with send_message."
)
# Letta's v1 agents have no send_message: they answer in plain text, calling tools on the way.
PLAIN_TEXT_SYSTEM_PROMPT = (
    "You are a helpful agent with persistent memory. Your memory blocks are shown below and "
    "stay with you across conversations; keep them up to date with the memory tools. "
    "Call tools when you need them, then answer whoever messaged you in plain text."
)
PLAIN_TEXT_AGENT_TYPES = frozenset({"letta_v1_agent"})


def default_system_prompt(agent_type: str) -> str:
    """The system prompt of a new agent created without one."""
    if agent_type in PLAIN_TEXT_AGENT_TYPES:
        return PLAIN_TEXT_SYSTEM_PROMPT
    return DEFAULT_SYSTEM_PROMPT


@dataclass(frozen=True)
class Offer:
    """A tool as one step offers it: its stored schema, and how its record (a built-in's;
    user tools take the defaults) says to present it."""

    schema: Mapping[str, Any]
    heartbeat: bool = True  # add the request_heartbeat flag (not on tools that end the turn)
    edits_block: bool = False  # its `label` names one of the agent's writable blocks

    @classmethod
    def of(
        cls, schema: Mapping[str, Any], builtin: BuiltinTool | None, always_continues: bool = False
    ) -> "Offer":
        """`always_continues`: the agent's loop goes on after every call (Letta's v1), so
        no tool asks the model for a heartbeat."""
        heartbeat = not always_continues and (builtin is None or builtin.heartbeat)
        if builtin is None:
            return cls(schema, heartbeat=heartbeat)
        return cls(schema, heartbeat=heartbeat, edits_block=builtin.edits_block)


def render_system_prompt(system: str, blocks: Sequence[PromptBlock]) -> str:
    memory = render_memory(blocks)
    return f"{system}\n\n{memory}" if memory else system


def render_memory(blocks: Sequence[PromptBlock]) -> str:
    """The memory blocks as the system prompt shows them ("" with no blocks)."""
    if not blocks:
        return ""
    parts = ["<memory_blocks>"]
    for block in blocks:
        attributes = f'chars="{len(block.value)}/{block.char_limit}"'
        if block.read_only:
            attributes += " read_only"
        parts.append(f"<{block.label} {attributes}>")
        if block.description:
            parts.append(f"<description>{block.description}</description>")
        parts.append(block.value)
        parts.append(f"</{block.label}>")
    parts.append("</memory_blocks>")
    return "\n".join(parts)


def tool_specs(
    offers: Sequence[Offer],
    writable_labels: Sequence[str] = (),
    prefilled: Mapping[str, Sequence[str]] | None = None,
    narrowed: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> list[ToolSpec]:
    """The tools as offered to the model: each but the turn-ending ones with a heartbeat flag,
    memory tools' `label` limited to the agent's own writable blocks (a model cannot then
    invent a label, and a constrained local model cannot even spell one wrong), without
    the parameters a tool rule prefills (the rule's values are used whatever the model says),
    and with the constraints a rule's `args_schema` adds to a parameter's schema."""
    specs = []
    for offer in offers:
        schema = offer.schema
        name = str(schema["name"])
        parameters = dict(schema.get("parameters") or {"type": "object", "properties": {}})
        fixed = set((prefilled or {}).get(name, ()))
        if fixed:
            kept = {k: v for k, v in (parameters.get("properties") or {}).items() if k not in fixed}
            required = [r for r in parameters.get("required") or [] if r not in fixed]
            parameters = {**parameters, "properties": kept, "required": required}
        narrowing = {
            k: v
            for k, v in ((narrowed or {}).get(name) or {}).items()
            if k in (parameters.get("properties") or {})
        }
        if narrowing:
            properties = dict(parameters["properties"])
            for key, extra in narrowing.items():
                properties[key] = {**properties[key], **extra}
            parameters = {**parameters, "properties": properties}
        if offer.edits_block and writable_labels and "label" in parameters.get("properties", {}):
            properties = dict(parameters["properties"])
            properties["label"] = {**properties["label"], "enum": list(writable_labels)}
            parameters = {**parameters, "properties": properties}
        if offer.heartbeat:
            properties = dict(parameters.get("properties") or {})
            properties[HEARTBEAT_PARAMETER] = {
                "type": "boolean",
                "description": "true to be called again after this tool returns",
            }
            parameters = {**parameters, "properties": properties}
        specs.append(ToolSpec(name, str(schema.get("description") or ""), parameters))
    return specs
