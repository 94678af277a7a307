"""What an agent sees of a file: numbered lines, a range of them, cut to a character budget.
Budgets follow Letta's: the smaller the model's context window, the fewer files open at
once and the fewer characters each."""

from troupe.errors import InvalidInput

# (context window up to, files open at once, characters shown of each file)
_BUDGETS = ((8_000, 3, 5_000), (32_000, 5, 15_000), (128_000, 10, 25_000), (200_000, 10, 40_000))
_LARGEST = (15, 40_000)


def file_budget(context_window: int | None) -> tuple[int, int]:
    """(max files open, per-file character limit) for a model's context window."""
    if not context_window:
        return 5, 30_000
    for up_to, files, chars in _BUDGETS:
        if context_window <= up_to:
            return files, chars
    return _LARGEST


def line_window(
    content: str, name: str, offset: int | None = None, length: int | None = None
) -> tuple[str, int | None, int | None]:
    """The lines `offset` (1-based) to `offset + length - 1`, numbered, with a header saying
    which part of the file it is; and the range's first and last line numbers."""
    lines = content.splitlines() or [""]
    if offset is not None and offset < 1:
        raise InvalidInput(
            f"offset for {name} must be 1 or more (lines count from 1), got {offset}"
        )
    if length is not None and length < 1:
        raise InvalidInput(f"length for {name} must be 1 or more, got {length}")
    if offset is None and length is None:
        numbered = [f"{i}: {line}" for i, line in enumerate(lines, start=1)]
        return "\n".join(numbered), None, None
    start = offset or 1
    if start > len(lines):
        raise InvalidInput(f"{name} has {len(lines)} lines; offset {start} is past its end")
    end = min(len(lines), start + length - 1) if length is not None else len(lines)
    numbered = [f"{i}: {lines[i - 1]}" for i in range(start, end + 1)]
    header = f"[Viewing lines {start} to {end} (out of {len(lines)} lines)]"
    return "\n".join([header, *numbered]), start, end


def cut_to(text: str, limit: int) -> str:
    """`text` within `limit` characters, saying so when it was cut."""
    if len(text) <= limit:
        return text
    note = "\n[... truncated: open a line range to see more]"
    return text[: max(0, limit - len(note))] + note
