"""A file's text cut into passages for search: paragraphs packed up to a size, long ones cut
at line and then word boundaries, so a passage reads as a piece of the document."""

DEFAULT_CHUNK_CHARS = 1200  # about 300 tokens, Letta's default embedding chunk size


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, each no longer than `limit` (a longer one cut by lines, then by words)."""
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip("\n")
        if not paragraph.strip():
            continue
        if len(paragraph) <= limit:
            out.append(paragraph)
            continue
        for line in paragraph.split("\n"):
            while len(line) > limit:
                cut = line.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                out.append(line[:cut])
                line = line[cut:].lstrip(" ")
            if line.strip():
                out.append(line)
    return out


def chunk_text(text: str, max_chars: int = DEFAULT_CHUNK_CHARS) -> list[str]:
    """Passages of at most `max_chars` characters, covering every piece of `text` in order."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, max_chars):
        if current and len(current) + 2 + len(piece) > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks
