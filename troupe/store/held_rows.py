"""The rows of what the in-memory search holds of an archive (its vectors, its word index),
changed piece by piece: a passage changed or gone leaves a dead row behind (skipped by the
search) and its new state, if any, is appended. Each change makes a new value, and nothing a
search may be reading changes: a value reads the first `count` rows of lists that later
values only append to (the value that owns their tail appends in place, any other copies)."""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class _Tail:
    """The passage of each row, and the live row of each passage, shared by values made one
    from another; `row_of` is the newest value's (no search reads it, only the next change)."""

    def __init__(self, ids: list[str], row_of: dict[str, int]) -> None:
        self.ids, self.row_of = ids, row_of
        self.lock = threading.Lock()


@dataclass(frozen=True)
class Rows:
    tail: _Tail
    count: int  # the rows of this value
    dead: Any  # int64 array: the rows to skip
    live: int  # the rows not dead

    @staticmethod
    def of(ids: list[str]) -> "Rows":
        tail = _Tail(ids, {pid: i for i, pid in enumerate(ids)})
        return Rows(tail, len(ids), np.zeros(0, dtype=np.int64), len(ids))

    @property
    def ids(self) -> list[str]:
        """The passage of each row (dead ones too); read the first `count` alone."""
        return self.tail.ids

    def live_rows(self) -> dict[str, int]:
        """Each passage held, with its row."""
        dead = set(self.dead.tolist())
        return {pid: i for i, pid in enumerate(self.ids[: self.count]) if i not in dead}

    def replaced(self, changed: Sequence[str], appended: Sequence[str]) -> "Rows":
        """The rows of `changed` dead, and `appended` (those of them still there, in the
        order their rows are added) on new rows at the end."""
        with self.tail.lock:
            tail = self.tail
            if len(tail.ids) != self.count:  # another value owns the tail: copy
                tail = _Tail(tail.ids[: self.count], self.live_rows())
            gone = [tail.row_of.pop(pid) for pid in changed if pid in tail.row_of]
            tail.row_of.update((pid, self.count + i) for i, pid in enumerate(appended))
            tail.ids.extend(appended)
        dead = np.concatenate([self.dead, np.asarray(gone, dtype=np.int64)])
        return Rows(tail, len(tail.ids), dead, len(tail.row_of))

    def too_sparse(self) -> bool:
        """Enough dead rows that reading the archive again pays (they cost every search)."""
        return len(self.dead) > max(1_000, self.live // 10)
