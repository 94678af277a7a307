"""`grep_files` over the text of an agent's files: a regular expression (case-insensitive)
matched line by line, with context, twenty matches a page."""

import re
from collections.abc import Sequence

from troupe.errors import InvalidInput

PAGE = 20
MAX_PATTERN = 1000


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"Pattern too complex: {len(pattern)} chars > {MAX_PATTERN} limit")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise InvalidInput(f"Invalid {what}: {error}") from None


def _include(include: str) -> re.Pattern[str]:
    """A file-name filter: a glob (`*.md`) or a regular expression."""
    if "*" in include and not any(c in include for c in "^$()[]{}\\+"):
        regex = include.replace(".", r"\.").replace("*", ".*").replace("?", ".") + "$"
        return _compile(regex, "include pattern")
    return _compile(include, "include pattern")


def grep_text(
    files: Sequence[tuple[str, str]],
    pattern: str,
    *,
    include: str | None = None,
    context_lines: int = 1,
    offset: int = 0,
) -> str:
    """The matches of `pattern` in `files` ((name, text) pairs), as `grep_files` reports them."""
    pattern = pattern.strip()
    if not pattern:
        raise InvalidInput("Empty search pattern provided")
    regex = _compile(pattern, "regex pattern")
    if not files:
        return "No files are currently attached to search"
    if include:
        wanted = _include(include)
        kept = [f for f in files if wanted.search(f[0])]
        if not kept:
            return f"No files match the filename pattern '{include}' (filtered {len(files)} files)"
        files = kept
    matches: list[tuple[str, int, list[str]]] = []
    per_file: dict[str, int] = {}
    for name, text in files:
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if not regex.search(line):
                continue
            first, last = max(0, index - context_lines), min(len(lines), index + context_lines + 1)
            shown = [
                f"{'>' if i == index else ' '} {i + 1}: {lines[i]}" for i in range(first, last)
            ]
            matches.append((name, index + 1, shown))
            per_file[name] = per_file.get(name, 0) + 1
    where = f" in files matching '{include}'" if include else ""
    if not matches:
        return f"No matches found for pattern: '{pattern}'{where}"
    page = matches[offset : offset + PAGE]
    summary = (
        f"Found {len(matches)} matches in {len(per_file)} files for pattern: '{pattern}'{where}"
    )
    out = [summary, "=" * len(summary)]
    out.append("Files: " + ", ".join(f"{name} ({n} matches)" for name, n in per_file.items()))
    if not page:
        out.append(f"No matches at offset {offset}; there are {len(matches)} in all.")
        return "\n".join(out)
    out.append(f"Showing matches {offset + 1}-{offset + len(page)} of {len(matches)}:")
    for name, number, shown in page:
        out.append(f"\n=== {name}:{number} ===")
        out.extend(shown)
    if offset + len(page) < len(matches):
        out.append(f"\nMore matches: use offset={offset + len(page)} to see the next page.")
    return "\n".join(out)
