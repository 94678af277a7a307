"""`semantic_search_files`: the passages of an agent's files nearest a query, reported as
Letta's tool reports them. Ranked by embeddings when the passages carry them, else by the
query words each passage holds."""

import math
import re
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store import files as file_store
from troupe.store.tables import FilePassageRow

# Texts to vectors; None when no embedder is configured (keyword ranking then).
EmbedTexts = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
_WORD = re.compile(r"\w+")
SHOWN_LINES = 20


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class PassageSearch:
    def __init__(self, embed: EmbedTexts | None = None) -> None:
        self.embed = embed

    async def nearest(
        self, session: AsyncSession, agent_id: str, query: str, limit: int
    ) -> list[tuple[FilePassageRow, str]]:
        """The `limit` passages nearest `query`, each with its file's full name."""
        embedded = False
        if self.embed is not None:
            rows = await file_store.passages_seen_by(session, agent_id)
            embedded = any(p.embedding for p, _f, _d in rows)
        if embedded and self.embed is not None:
            [vector] = await self.embed([query])
            scored = [
                (_cosine(vector, p.embedding or []), p, f"{folder}/{name}")
                for p, name, folder in rows
                if p.embedding
            ]
        else:
            words = sorted({w.lower() for w in _WORD.findall(query)})
            rows = await file_store.passages_seen_by(session, agent_id, words)
            scored = [
                (float(sum(w in p.text.lower() for w in words)), p, f"{folder}/{name}")
                for p, name, folder in rows
            ]
        scored.sort(key=lambda item: -item[0])  # stable: file order among equals
        return [(p, name) for _score, p, name in scored[:limit]]

    async def formatted(self, session: AsyncSession, agent_id: str, query: str, limit: int) -> str:
        found = await self.nearest(session, agent_id, query, limit)
        if not found:
            return f"No semantic matches found for query: '{query}'"
        by_file: dict[str, list[FilePassageRow]] = {}
        for passage, name in found:
            by_file.setdefault(name, []).append(passage)
        parts: list[str] = []
        number = 0
        for name, passages in by_file.items():
            for passage in passages:
                number += 1
                lines = passage.text.strip().splitlines()
                shown = [f"  {line}" for line in lines[:SHOWN_LINES]]
                if len(lines) > SHOWN_LINES:
                    shown.append(f"  ... [truncated {len(lines) - SHOWN_LINES} more lines]")
                parts.append(f"\n=== {name} (passage #{number}) ===\n" + "\n".join(shown))
        files = len(by_file)
        summary = (
            f"Found {number} semantic matches in {files} file{'s' if files != 1 else ''} "
            f"for query: '{query}'"
        )
        return "\n".join([summary, "=" * len(summary), *parts])
