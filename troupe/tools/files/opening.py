"""Opening and closing files in an agent's view, with Letta's limit on how many are open at
once: opening one more closes the least recently used. Shared by the `open_files` tool and
the REST routes."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import agent_files as view_store
from troupe.store.agent_files import SeenFile
from troupe.store.file_tables import FileRow
from troupe.tools.files.view import cut_to, line_window


@dataclass(frozen=True)
class Budget:
    max_open: int
    per_file_chars: int


async def open_file(
    session: AsyncSession,
    seen: Sequence[SeenFile],
    target: SeenFile,
    budget: Budget,
    lines: tuple[int | None, int | None] = (None, None),
) -> list[str]:
    """Open `target` (lines `offset`, `length`; all of it by default) within the budget;
    the names of the files closed to make room, least recently used first."""
    file = await session.get(FileRow, target.view.file_id)
    content = file.content if file is not None else ""
    offset, length = lines
    if offset is None and length is None:
        visible, first, last = content, None, None
    else:
        visible, first, last = line_window(content, target.full_name, offset, length)
    others = [s for s in seen if s.view.is_open and s.view.id != target.view.id]
    evicted: list[SeenFile] = []
    if not target.view.is_open and len(others) >= budget.max_open:
        others.sort(key=lambda s: s.view.last_accessed_at)
        evicted = others[: len(others) - budget.max_open + 1]
        await view_store.close_views(session, [s.view for s in evicted])
    await view_store.set_open(
        session, target.view, cut_to(visible, budget.per_file_chars), (first, last)
    )
    return [s.full_name for s in evicted]
