"""Keyword matching of archival search over an in-memory word index per archive, held in
the same cache as its vectors (store.vector_cache) and caught up when the archive's version
moves (a passage added, edited or deleted: those logged since are read again, or the whole
archive when the log does not reach back). It answers exactly as the SQL match
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

from troupe.store.held_rows import Rows
from troupe.store.passage_changes import rows_among
from troupe.store.tables import PassageRow
from troupe.store.vector_cache import Key, archive_versions, current

_WORDS = "#words"  # the cache key's second part for an archive's word index
_MANY_NEW_WORDS = 64  # beyond this, the vocabulary is merged whole rather than word by word


@dataclass(frozen=True)
class _Words:
    version: int
    rows: Rows
    newest_first: Any  # each row's created_at, in microseconds, negated: newest first
    vocabulary: list[str]  # sorted
    postings: list[Any]  # per word of the vocabulary: the rows that have it
    size: int  # bytes, about: counted as it is made, not by walking every word again

    def hits(self, words: Sequence[str]) -> Any:
        """How many of `words` each row has (as a prefix of one of its words); 0 if dead."""
        found = np.zeros(self.rows.count, dtype=np.int32)
        for word in words:
            start = bisect.bisect_left(self.vocabulary, word)
            end = bisect.bisect_left(self.vocabulary, word + "\U0010ffff", start)
            if end > start:
                found[np.unique(np.concatenate(self.postings[start:end]))] += 1
        found[self.rows.dead] = 0
        return found

    def best(self, words: Sequence[str], limit: int) -> list[tuple[int, int, str]]:
        """This archive's best `limit` as (-hits, newest_first, id), with every row tied
        with the last of them on hits and time (the id decides among those, in the caller's
        sort, whatever order the rows are in)."""
        hits = self.hits(words)
        found = np.flatnonzero(hits)
        # numpy's order, not a Python loop over every match: the most words, the newest.
        order = found[np.lexsort((self.newest_first[found], -hits[found]))]
        if len(order) > limit:
            last = order[limit - 1]
            tied = order[limit:]
            tied = tied[
                (hits[tied] == hits[last]) & (self.newest_first[tied] == self.newest_first[last])
            ]
            order = np.concatenate([order[:limit], tied])
        ids = self.rows.ids
        return [(-int(hits[i]), int(self.newest_first[i]), ids[i]) for i in order.tolist()]


async def keyword_ids(
    session: AsyncSession,
    archive_ids: Sequence[str],
    words: Sequence[str],
    limit: int,
    versions: dict[str, int] | None = None,
) -> list[tuple[str, float]]:
    """The passages of these archives with the most of `words`, with their share of them
    (`versions`: as in `nearest_ids`)."""
    ranked: list[tuple[int, int, str]] = []
    if versions is None:
        versions = await archive_versions(session, archive_ids)
    for archive_id, version in versions.items():
        ranked.extend((await _current(session, archive_id, version)).best(words, limit))
    ranked.sort()
    return [(pid, -negative / len(words)) for negative, _, pid in ranked[:limit]]


async def _current(session: AsyncSession, archive_id: str, version: int) -> _Words:
    """The archive's word index as of `version` or later (see vector_cache.current)."""

    async def read_all() -> _Words:
        stmt = _columns().where(PassageRow.archive_id == archive_id)
        return _index(version, list((await session.execute(stmt)).all()))

    key = (archive_id, _WORDS, 0)
    held = await current(session, key, version, _Words, _changed, read_all)
    assert held is not None  # read_all always answers
    return held


def _columns() -> Any:
    return select(PassageRow.id, PassageRow.text, PassageRow.created_at)


def _microseconds(at: datetime) -> int:
    return (at.replace(tzinfo=None) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _words_of(rows: Sequence[Any], first: int) -> dict[str, list[int]]:
    """Each word of rows (id, text, created_at): the rows (numbered from `first`) with it."""
    by_word: dict[str, list[int]] = {}
    for i, row in enumerate(rows, start=first):
        for word in set(str(row[1]).lower().split(" ")):
            if word:
                by_word.setdefault(word, []).append(i)
    return by_word


def _times(rows: Sequence[Any]) -> Any:
    # Newest first, then by id: what the SQL orders by after the number of words matched.
    return np.asarray([-_microseconds(r[2]) for r in rows], dtype=np.int64)


def _size(rows: int, words: dict[str, list[int]], new_words: Any) -> int:
    """About the bytes that `rows` rows with these `words`, some new, add to an index."""
    entries = 2 * rows + sum(len(found) for found in words.values())
    return 8 * entries + sum(len(w) for w in new_words) + 64 * rows


def _index(version: int, rows: list[Any]) -> _Words:
    by_word = _words_of(rows, 0)
    vocabulary = sorted(by_word)
    postings = [np.asarray(by_word[w], dtype=np.int64) for w in vocabulary]
    size = _size(len(rows), by_word, vocabulary)
    held = Rows.of([str(r[0]) for r in rows])
    return _Words(version, held, _times(rows), vocabulary, postings, size)


async def _changed(
    session: AsyncSession, key: Key, older: _Words, changed: list[str], version: int
) -> _Words | None:
    """`older` with the passages `changed` as they are now: their old rows dead, their new
    ones appended (a changed passage's old row stays in the postings, skipped as dead)."""
    stmt = _columns().where(PassageRow.archive_id == key[0])
    found = await rows_among(session, stmt, changed)
    rows = older.rows.replaced(changed, [str(r[0]) for r in found])
    if rows.too_sparse():
        return None
    vocabulary, postings = list(older.vocabulary), list(older.postings)
    added = _words_of(found, older.rows.count)
    known = _positions(vocabulary, added)
    new_words = sorted(w for w in added if w not in known)
    if len(new_words) > _MANY_NEW_WORDS:
        merged = dict(zip(vocabulary, postings, strict=True))
        merged.update((w, np.zeros(0, dtype=np.int64)) for w in new_words)
        vocabulary = sorted(merged)
        postings = [merged[w] for w in vocabulary]
    else:
        for word in new_words:
            at = bisect.bisect_left(vocabulary, word)
            vocabulary.insert(at, word)
            postings.insert(at, np.zeros(0, dtype=np.int64))
    for word, at in _positions(vocabulary, added).items():
        postings[at] = np.concatenate([postings[at], np.asarray(added[word], dtype=np.int64)])
    times = np.concatenate([older.newest_first, _times(found)])
    size = older.size + _size(len(found), added, new_words)
    return _Words(version, rows, times, vocabulary, postings, size)


def _positions(vocabulary: list[str], words: dict[str, list[int]]) -> dict[str, int]:
    """Where each of `words` sits in the sorted `vocabulary`, for those it has."""
    found = {}
    for word in words:
        at = bisect.bisect_left(vocabulary, word)
        if at < len(vocabulary) and vocabulary[at] == word:
            found[word] = at
    return found
