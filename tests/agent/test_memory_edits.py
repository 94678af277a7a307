"""Memory edits: exact results, and refusals that change nothing."""

import pytest

from troupe.tools import memory_edits as memory
from troupe.tools.memory_edits import BlockState, MemoryEditError

TASKS = BlockState(
    label="team_tasks", value="task-1: pending\ntask-2: pending", limit=60, read_only=False
)


def test_append_adds_a_line_and_starts_an_empty_block_without_one() -> None:
    assert memory.core_memory_append(TASKS, "note") == "task-1: pending\ntask-2: pending\nnote"
    empty = BlockState("notes", "", 10, False)
    assert memory.core_memory_append(empty, "hi") == "hi"


def test_replace_changes_every_occurrence_and_refuses_missing_text() -> None:
    assert memory.core_memory_replace(TASKS, "pending", "done") == "task-1: done\ntask-2: done"
    with pytest.raises(MemoryEditError, match="is not in memory block 'team_tasks'"):
        memory.core_memory_replace(TASKS, "absent", "x")


def test_memory_replace_needs_exactly_one_occurrence() -> None:
    assert memory.memory_replace(TASKS, "task-1: pending", "task-1: done").startswith(
        "task-1: done"
    )
    with pytest.raises(MemoryEditError, match="occurs 2 times"):
        memory.memory_replace(TASKS, "pending", "done")


def test_insert_at_a_line_and_at_the_end() -> None:
    assert memory.memory_insert(TASKS, "top", 0).split("\n")[0] == "top"
    assert memory.memory_insert(TASKS, "end").split("\n")[-1] == "end"
    with pytest.raises(MemoryEditError, match="outside block"):
        memory.memory_insert(TASKS, "x", 7)


def test_over_the_limit_is_refused_naming_limit_and_size() -> None:
    with pytest.raises(MemoryEditError, match=r"would hold 61 characters, over its limit of 60"):
        memory.memory_rethink(TASKS, "x" * 61)


def test_read_only_blocks_refuse_every_edit() -> None:
    frozen = BlockState("persona", "fixed", 100, read_only=True)
    for edit, arguments in [
        (memory.core_memory_append, ("x",)),
        (memory.core_memory_replace, ("fixed", "y")),
        (memory.memory_rethink, ("z",)),
    ]:
        with pytest.raises(MemoryEditError, match="read-only"):
            edit(frozen, *arguments)
