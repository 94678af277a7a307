"""`semantic_search_files`: the passages of an agent's files nearest a query, reported as
Letta's tool reports them. A folder's passages are ranked by cosine similarity to the query
embedded with that folder's own embedder (the one that embedded them, so dimensions always
agree); a keyword-only folder's passages by the query words they hold."""

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.llm.embeddings import Embedder
from troupe.schemas.common import EmbeddingConfig
from troupe.store import files as file_store
from troupe.store.files import SeenPassage

EmbedderFor = Callable[[EmbeddingConfig], Embedder | None]
_WORD = re.compile(r"\w+")
SHOWN_LINES = 20


def _keyword_scores(query: str, rows: Sequence[SeenPassage]) -> list[float]:
    """The share of the query's words a passage holds (0 to 1, like a cosine)."""
    words = {w.lower() for w in _WORD.findall(query)}
    if not words:
        return [0.0] * len(rows)
    return [sum(w in r.passage.text.lower() for w in words) / len(words) for r in rows]


class PassageSearch:
    def __init__(self, embedder_for: EmbedderFor | None = None) -> None:
        self.embedder_for = embedder_for

    async def _scores(self, query: str, rows: list[SeenPassage]) -> list[float]:
        """Each row's similarity to the query, by its folder's embedder where it has one."""
        scores = _keyword_scores(query, rows)
        groups: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            if row.passage.embedding and self.embedder_for is not None:
                key = repr(sorted(row.embedding_config.items()))
                groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            config = EmbeddingConfig(**rows[indexes[0]].embedding_config)
            assert self.embedder_for is not None
            embedder = self.embedder_for(config)
            if embedder is None:
                continue
            [vector] = await embedder.embed([query])
            matrix = np.array([rows[i].passage.embedding for i in indexes], dtype=np.float32)
            query_vector = np.array(vector, dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query_vector) or 1.0)
            similarity = matrix @ query_vector / np.where(norms == 0, 1.0, norms)
            for i, value in zip(indexes, similarity.tolist(), strict=True):
                scores[i] = float(value)
        return scores

    async def nearest(
        self, session: AsyncSession, agent_id: str, query: str, limit: int
    ) -> list[SeenPassage]:
        """The `limit` passages nearest `query`; passages that share nothing with it (no
        embedding and no query word) are left out."""
        rows = await file_store.passages_seen_by(session, agent_id)
        scores = await self._scores(query, rows)
        ranked = sorted(
            (
                item
                for item in zip(scores, range(len(rows)), strict=True)
                if item[0] > 0 or rows[item[1]].passage.embedding
            ),
            key=lambda item: -item[0],
        )
        return [rows[i] for _score, i in ranked[:limit]]

    async def formatted(self, session: AsyncSession, agent_id: str, query: str, limit: int) -> str:
        found = await self.nearest(session, agent_id, query, limit)
        if not found:
            return f"No semantic matches found for query: '{query}'"
        by_file: dict[str, list[Any]] = {}
        for row in found:
            by_file.setdefault(row.file_name, []).append(row.passage)
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
