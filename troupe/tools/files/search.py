"""`semantic_search_files`: the passages of an agent's files nearest a query, reported as
Letta's tool reports them. A folder's passages are ranked in the database by cosine
similarity to the query embedded with that folder's own embedder (the one that embedded
them, so dimensions always agree), as archival memory is searched; a keyword-only folder's
by the share of the query's words they hold."""

import re
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from troupe.llm.embeddings import Embedder
from troupe.schemas.common import EmbeddingConfig
from troupe.store import files as file_store
from troupe.store.files import SeenPassage

EmbedderFor = Callable[[EmbeddingConfig], Embedder | None]
_WORD = re.compile(r"\w+")
SHOWN_LINES = 20


class PassageSearch:
    def __init__(self, embedder_for: EmbedderFor | None = None) -> None:
        self.embedder_for = embedder_for

    async def nearest(
        self, session: AsyncSession, agent_id: str, query: str, limit: int
    ) -> list[SeenPassage]:
        """The `limit` passages nearest `query`, best first; a keyword-only folder's
        passages only if they hold a word of the query."""
        scored: list[tuple[float, SeenPassage]] = []
        for config in await file_store.embedding_configs_seen_by(session, agent_id):
            embedder = self.embedder_for(EmbeddingConfig(**config)) if self.embedder_for else None
            if embedder is None:
                continue
            [vector] = await embedder.embed([query])
            found = await file_store.nearest_passages(
                session, agent_id, vector, embedder.handle, limit
            )
            scored += [(score, row) for row, score in found]
        words = sorted({w.lower() for w in _WORD.findall(query)})
        if words:
            for row in await file_store.passages_seen_by(session, agent_id, words, unembedded=True):
                held = _WORD.findall(row.passage.text.lower())
                # A word of the passage starting with the query's word: "own" finds "owner".
                hits = sum(any(t.startswith(w) for t in held) for w in words)
                if hits:
                    scored.append((hits / len(words), row))
        scored.sort(key=lambda item: -item[0])  # stable: among equals, the database's order
        return [row for _score, row in scored[:limit]]

    async def formatted(self, session: AsyncSession, agent_id: str, query: str, limit: int) -> str:
        found = await self.nearest(session, agent_id, query, limit)
        if not found:
            return f"No semantic matches found for query: '{query}'"
        by_file: dict[str, list[SeenPassage]] = {}
        for row in found:
            by_file.setdefault(row.file_name, []).append(row)
        parts: list[str] = []
        number = 0
        for name, rows in by_file.items():
            for row in rows:
                number += 1
                lines = row.passage.text.strip().splitlines()
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
