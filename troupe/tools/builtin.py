# mypy: disable-error-code="empty-body"
# (the functions below are declarations: the server binds an implementation to each name)
"""The built-in tools as the model sees them: signature and docstring of each.

Their JSON schemas are derived by the same `derive_tool` that user tools go through. They run
inside the server (the agent loop binds an implementation to each name), not in the sandbox.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from troupe.tools.schema import derive_tool


def send_message(message: str) -> None:
    """Send a message to the user (or the agent that messaged you). This ends your turn.

    Args:
        message: The text of the message.
    """


def conversation_search(query: str, page: int | None = 0) -> str:
    """Search your past conversation history for messages containing the query.

    Args:
        query: Words to look for.
        page: Which page of results to return, starting at 0.
    """


def archival_memory_insert(content: str) -> str:
    """Store a passage in archival memory, your long-term store outside the context window.

    Args:
        content: The text to store. Write it so that it can be found again by keyword.
    """


def archival_memory_search(query: str, page: int | None = 0, start: int | None = 0) -> str:
    """Search archival memory for passages matching the query.

    Args:
        query: Words to look for.
        page: Which page of results to return, starting at 0.
        start: How many results to skip.
    """


def core_memory_append(label: str, content: str) -> str:
    """Append text to the end of one of your memory blocks.

    Args:
        label: The label of the memory block, e.g. `human` or `persona`.
        content: The text to append.
    """


def core_memory_replace(label: str, old_content: str, new_content: str) -> str:
    """Replace text in one of your memory blocks. Use an empty new_content to delete text.

    Args:
        label: The label of the memory block.
        old_content: The exact text to replace.
        new_content: The text to put in its place.
    """


def memory_insert(label: str, new_str: str, insert_line: int = -1) -> str:
    """Insert text into a memory block at a given line (-1 inserts at the end).

    Args:
        label: The label of the memory block.
        new_str: The text to insert.
        insert_line: The line number after which to insert; -1 means the end.
    """


def memory_replace(label: str, old_str: str, new_str: str) -> str:
    """Replace one exact occurrence of old_str in a memory block with new_str.

    Args:
        label: The label of the memory block.
        old_str: The exact text to replace; it must occur exactly once.
        new_str: The text to put in its place.
    """


def memory_rethink(label: str, new_memory: str) -> str:
    """Rewrite a memory block completely with new contents.

    Args:
        label: The label of the memory block.
        new_memory: The full new contents of the block.
    """


def send_message_to_agent_async(message: str, other_agent_id: str) -> str:
    """Send a message to another agent without waiting for a reply. This ends your turn.

    Args:
        message: The message to send.
        other_agent_id: The id of the agent to send it to.
    """


def send_message_to_agent_and_wait_for_reply(message: str, other_agent_id: str) -> str:
    """Send a message to another agent and wait for its reply, which is returned.

    Args:
        message: The message to send.
        other_agent_id: The id of the agent to send it to.
    """


def send_message_to_agents_matching_all_tags(message: str, tags: list[str]) -> list[str]:
    """Send a message to every agent that has all the given tags; returns each one's reply.

    Args:
        message: The message to send.
        tags: The tags an agent must all have to receive the message.
    """


def send_message_to_agents_matching_tags(
    message: str, match_all: list[str], match_some: list[str]
) -> list[str]:
    """Send a message to every agent that has all of match_all and at least one of match_some
    (when it is not empty); returns each one's reply.

    Args:
        message: The message to send.
        match_all: Tags an agent must all have.
        match_some: Tags of which an agent must have at least one; empty means no condition.
    """


@dataclass(frozen=True)
class BuiltinTool:
    name: str
    tool_type: str
    description: str
    source_code: str
    json_schema: dict[str, Any]


def _declare(function: Callable[..., Any], tool_type: str) -> BuiltinTool:
    source = inspect.getsource(function)
    derived = derive_tool(source)
    return BuiltinTool(derived.name, tool_type, derived.description, source, derived.json_schema)


BASE_TOOL_NAMES = (
    "send_message",
    "conversation_search",
    "archival_memory_insert",
    "archival_memory_search",
    "core_memory_append",
    "core_memory_replace",
)
MULTI_AGENT_TOOL_NAMES = (
    "send_message_to_agent_async",
    "send_message_to_agent_and_wait_for_reply",
    "send_message_to_agents_matching_all_tags",
)

BUILTIN_TOOLS: dict[str, BuiltinTool] = {
    tool.name: tool
    for tool in (
        _declare(send_message, "letta_core"),
        _declare(conversation_search, "letta_core"),
        _declare(archival_memory_insert, "letta_core"),
        _declare(archival_memory_search, "letta_core"),
        _declare(core_memory_append, "letta_memory_core"),
        _declare(core_memory_replace, "letta_memory_core"),
        _declare(memory_insert, "letta_memory_core"),
        _declare(memory_replace, "letta_memory_core"),
        _declare(memory_rethink, "letta_memory_core"),
        _declare(send_message_to_agent_async, "letta_multi_agent_core"),
        _declare(send_message_to_agent_and_wait_for_reply, "letta_multi_agent_core"),
        _declare(send_message_to_agents_matching_all_tags, "letta_multi_agent_core"),
        _declare(send_message_to_agents_matching_tags, "letta_multi_agent_core"),
    )
}
