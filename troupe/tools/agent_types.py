"""The built-in tools an agent gets by default (`include_base_tools`), by its `agent_type`,
as Letta's final server gives them. Types Letta gives a set of its own are listed; any other
(`memgpt_agent`, the default, and types troupe does not know) gets troupe's base set, as
before: MemGPT's reply, searches, archival memory and core-memory edits."""

from troupe.tools.registry import ToolRegistry

BY_TYPE: dict[str, tuple[str, ...]] = {
    # Letta v1 agents answer in plain text: no send_message (their base set is the v2 one,
    # send_message taken out). Archival memory is opt-in in Letta's final server (its two
    # tools are left out of every base set), so it is here too for the types below.
    "letta_v1_agent": ("conversation_search", "memory_insert", "memory_replace"),
    "memgpt_v2_agent": ("send_message", "conversation_search", "memory_insert", "memory_replace"),
    "sleeptime_agent": ("memory_insert", "memory_replace", "memory_rethink", "memory_finish_edits"),
    "react_agent": (),
    "workflow_agent": (),
}


def base_tool_names(registry: ToolRegistry, agent_type: str) -> list[str]:
    """What `include_base_tools` attaches to a new agent of `agent_type`."""
    named = BY_TYPE.get(agent_type)
    if named is None:
        return registry.default_names("base")
    return [name for name in named if name in registry]
