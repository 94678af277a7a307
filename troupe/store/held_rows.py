"""The rows of what the in-memory search holds of an archive (its vectors, its word index),
changed piece by piece: a passage changed or gone leaves a dead row behind (skipped by the
search) and its new state, if any, is appended. Each change makes a new value; nothing a
search may be reading is modified."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Rows:
    ids: list[str]  # the passage of each row, dead ones too
    row_of: dict[str, int]  # each passage held: its (live) row
    dead: Any  # int64 array: the rows to skip

    @staticmethod
    def of(ids: list[str]) -> "Rows":
        return Rows(ids, {pid: i for i, pid in enumerate(ids)}, np.zeros(0, dtype=np.int64))

    @property
    def live(self) -> int:
        return len(self.row_of)

    def replaced(self, changed: Sequence[str], appended: Sequence[str]) -> "Rows":
        """The rows of `changed` dead, and `appended` (those of them still there, in the
        order their rows are added) on new rows at the end."""
        row_of = dict(self.row_of)
        gone = [row_of.pop(pid) for pid in changed if pid in row_of]
        start = len(self.ids)
        row_of.update((pid, start + i) for i, pid in enumerate(appended))
        dead = np.concatenate([self.dead, np.asarray(gone, dtype=np.int64)])
        return Rows(self.ids + list(appended), row_of, dead)

    def too_sparse(self) -> bool:
        """Enough dead rows that reading the archive again pays (they cost every search)."""
        return len(self.dead) > max(1_000, self.live // 10)
