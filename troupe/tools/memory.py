"""The memory tools: each one record of the registry, run inside the step's transaction.

An edit is applied to the block's current stored value, and the UPDATE only lands if the
version is still the one the edit was computed on; otherwise a concurrent edit won the race
and this one is recomputed on top of it: never lost, never applied to a stale value."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import blocks as block_store
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.memory_edits import EDITS, BlockState, MemoryEditError
from troupe.tools.registry import BuiltinTool, RunInStep, declare

EDIT_ATTEMPTS = 20


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


def memory_finish_edits() -> None:
    """Call this when you have finished editing your memory blocks. This ends your turn."""


async def _finish_edits(caller: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
    return ToolOutcome.ok("None")  # what Letta's tool answers: it only ends the turn


async def edit_memory(
    session: AsyncSession, caller: ToolCaller, tool: str, arguments: dict[str, Any]
) -> ToolOutcome:
    """Apply the memory tool `tool` to the caller's block named by `label`."""
    arguments = dict(arguments)
    label = arguments.pop("label", None)
    if not isinstance(label, str):
        return ToolOutcome.error("`label` is required: the label of one of your memory blocks")
    edit = EDITS[tool]
    for _ in range(EDIT_ATTEMPTS):
        block = await block_store.block_for_edit(session, caller.agent_id, label)
        if block is None:
            labels = ", ".join(sorted(await block_store.labels_of_agent(session, caller.agent_id)))
            return ToolOutcome.error(
                f"you have no memory block labelled {label!r}; your blocks: {labels or 'none'}"
            )
        state = BlockState(block.label, block.value, block.char_limit, block.read_only)
        try:
            new_value = edit(state, **arguments)
        except MemoryEditError as exc:
            return ToolOutcome.error(str(exc))
        except TypeError as exc:
            return ToolOutcome.error(f"wrong arguments for {tool}: {exc}")
        if await block_store.update_block_value(
            session, block.id, expected_version=block.version, value=new_value
        ):
            return ToolOutcome.ok(
                f"memory block {label!r} updated ({len(new_value)}/{block.char_limit} characters)"
            )
    return ToolOutcome.error(f"memory block {label!r} is changing too fast; try again")


def _editing(tool: str) -> RunInStep:
    async def run(
        session: AsyncSession, caller: ToolCaller, arguments: dict[str, Any]
    ) -> ToolOutcome:
        return await edit_memory(session, caller, tool, arguments)

    return run


def _memory_tool(declaration: Any, *, default: bool) -> BuiltinTool:
    return declare(
        declaration,
        "letta_memory_core",
        run_in_step=_editing(declaration.__name__),
        edits_block=True,
        default_set="base" if default else None,
    )


MEMORY_TOOLS = [
    _memory_tool(core_memory_append, default=True),
    _memory_tool(core_memory_replace, default=True),
    _memory_tool(memory_insert, default=False),
    _memory_tool(memory_replace, default=False),
    _memory_tool(memory_rethink, default=False),
    # Letta's sleep-time agents end their editing with it (its tool type is theirs).
    declare(memory_finish_edits, "letta_sleeptime_core", run=_finish_edits, ends_turn=True),
]
