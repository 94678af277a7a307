"""Memory-tool edits as pure functions of a block's current value.

They are applied to the value read inside the step's transaction (see
`troupe.tools.memory`), so two agents editing one shared block both land. Each raises
`MemoryEditError` with a message for the model when the edit cannot be made; nothing
changes then."""

from collections.abc import Callable
from dataclasses import dataclass

from troupe.schemas.blocks import over_limit


class MemoryEditError(Exception):
    """The edit is refused; the message is returned to the model as the tool's error."""


@dataclass(frozen=True)
class BlockState:
    label: str
    value: str
    limit: int
    read_only: bool


def core_memory_append(block: BlockState, content: str) -> str:
    return _checked(block, f"{block.value}\n{content}" if block.value else content)


def core_memory_replace(block: BlockState, old_content: str, new_content: str) -> str:
    if not old_content:
        raise MemoryEditError("old_content is empty: say which text to replace")
    if old_content not in block.value:
        raise MemoryEditError(f"{old_content!r} is not in memory block {block.label!r}")
    return _checked(block, block.value.replace(old_content, new_content))


def memory_insert(block: BlockState, new_str: str, insert_line: int = -1) -> str:
    lines = block.value.split("\n") if block.value else []
    if insert_line == -1:
        position = len(lines)
    elif 0 <= insert_line <= len(lines):
        position = insert_line
    else:
        raise MemoryEditError(
            f"insert_line {insert_line} is outside block {block.label!r}, which has "
            f"{len(lines)} lines (use 0 to {len(lines)}, or -1 for the end)"
        )
    return _checked(block, "\n".join([*lines[:position], new_str, *lines[position:]]))


def memory_replace(block: BlockState, old_str: str, new_str: str) -> str:
    if not old_str:
        raise MemoryEditError("old_str is empty: say which text to replace")
    count = block.value.count(old_str)
    if count == 0:
        raise MemoryEditError(f"{old_str!r} is not in memory block {block.label!r}")
    if count > 1:
        raise MemoryEditError(
            f"{old_str!r} occurs {count} times in memory block {block.label!r}; "
            "include more surrounding text so it occurs once"
        )
    return _checked(block, block.value.replace(old_str, new_str, 1))


def memory_rethink(block: BlockState, new_memory: str) -> str:
    return _checked(block, new_memory)


def _checked(block: BlockState, new_value: str) -> str:
    if block.read_only:
        raise MemoryEditError(f"memory block {block.label!r} is read-only")
    problem = over_limit(block.label, new_value, block.limit)
    if problem:
        raise MemoryEditError(
            f"edit refused: {problem}; shorten the text or remove something first"
        )
    return new_value


# Each edit takes the block's state and the tool's keyword arguments, and returns the new value.
EDITS: dict[str, Callable[..., str]] = {
    "core_memory_append": core_memory_append,
    "core_memory_replace": core_memory_replace,
    "memory_insert": memory_insert,
    "memory_replace": memory_replace,
    "memory_rethink": memory_rethink,
}
