"""Keyword matching of archival search over an in-memory word index per archive, held in
the same cache as its vectors (store.vector_cache) and read again when the archive's
version moves (a passage added, edited or deleted). It answers exactly as the SQL match
(`keyword_matches`): a passage matches a word when one of its space-separated words starts
with it (`own` finds "owner", not "downtown"), case aside; those matching the most words
first, then the newest, then by id."""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from troupe.store.tables import PassageRow
from troupe.store.vector_cache import archive_versions, cache_of

_WORDS = "#words"  # the cache key's second part for an archive's word index


@dataclass(frozen=True)
class _Words:
    version: int
    ids: list[str]
    newest_first: Any  # each passage's created_at, in microseconds, negated: newest first
    id_rank: Any  # each passage's place among the ids in sorted order: the last tie-break
    vocabulary: list[str]  # sorted
    postings: list[Any]  # per word of the vocabulary: the passages that have it

    @property
    def size(self) -> int:
        words = sum(len(w) for w in self.vocabulary)
        entries = 2 * len(self.ids) + sum(len(p) for p in self.postings)
        return 8 * entries + words + 64 * len(self.ids)

    def hits(self, words: Sequence[str]) -> Any:
        """How many of `words` each passage has (as a prefix of one of its words)."""
        found = np.zeros(len(self.ids), dtype=np.int32)
        for word in words:
            start = bisect.bisect_left(self.vocabulary, word)
            end = bisect.bisect_left(self.vocabulary, word + "\U0010ffff", start)
            if end > start:
                found[np.unique(np.concatenate(self.postings[start:end]))] += 1
        return found


async def keyword_ids(
    session: AsyncSession,
    archive_ids: Sequence[str],
    words: Sequence[str],
    limit: int,
    versions: dict[str, int] | None = None,
) -> list[tuple[str, float]]:
    """The passages of these archives with the most of `words`, with their share of them
    (`versions`: as in `nearest_ids`)."""
    cache = cache_of(session)
    ranked: list[tuple[int, int, str]] = []
    if versions is None:
        versions = await archive_versions(session, archive_ids)
    for archive_id, version in versions.items():
        held = cache.get((archive_id, _WORDS, 0), version)
        if not isinstance(held, _Words):
            held = await _read(session, archive_id, version)
            cache.put((archive_id, _WORDS, 0), held)
        hits = held.hits(words)
        found = np.flatnonzero(hits)
        # This archive's best `limit` in its own order (numpy's, not a Python loop over every
        # match): the most words, then the newest, then by id.
        order = np.lexsort((held.id_rank[found], held.newest_first[found], -hits[found]))
        for i in found[order[:limit]].tolist():
            ranked.append((-int(hits[i]), int(held.newest_first[i]), held.ids[i]))
    ranked.sort()
    return [(pid, -negative / len(words)) for negative, _, pid in ranked[:limit]]


def _microseconds(at: datetime) -> int:
    return (at.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


async def _read(session: AsyncSession, archive_id: str, version: int) -> _Words:
    stmt = select(PassageRow.id, PassageRow.text, PassageRow.created_at).where(
        PassageRow.archive_id == archive_id
    )
    rows = (await session.execute(stmt)).all()
    ids = [str(r[0]) for r in rows]
    # Newest first, then by id: what the SQL orders by after the number of words matched.
    newest_first = np.asarray([-_microseconds(r[2]) for r in rows], dtype=np.int64)
    by_word: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for word in set(str(row[1]).lower().split(" ")):
            if word:
                by_word.setdefault(word, []).append(i)
    vocabulary = sorted(by_word)
    postings = [np.asarray(by_word[w], dtype=np.int64) for w in vocabulary]
    id_rank = np.empty(len(ids), dtype=np.int64)
    id_rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    return _Words(version, ids, newest_first, id_rank, vocabulary, postings)
