"""Per-agent prompt caching on one shared llama.cpp context. When the context passes to
another agent, the leaving agent's KV state is snapshot (a byte-bounded LRU), so each
agent's next step reads only what is new in its prompt."""

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from troupe.llm.local.llama import live_tokens, load_state, state_bytes

SNAPSHOT_BYTES = 256 * 2**20  # KV snapshots of agents off the live context (~23 KB a token)


@dataclass(frozen=True)
class Snapshot:
    tokens: list[int]
    data: bytes


class PromptCache:
    """Whose KV state the live context holds (by cache key, e.g. the agent id), and the
    snapshots of the others'. Used under the engine's lock."""

    def __init__(self, limit_bytes: int = SNAPSHOT_BYTES) -> None:
        self.limit_bytes = limit_bytes
        self._owner: str | None = None
        self._snapshots: OrderedDict[str, Snapshot] = OrderedDict()

    def switch_to(self, llm: Any, key: str | None, tokens: list[int]) -> bool:
        """Snapshot the agent leaving the context, then restore this agent's snapshot if it
        shares more of the prompt than the context holds now. True when restored."""
        live = live_tokens(llm)
        if self._owner is not None and self._owner != key and live:
            self._keep(self._owner, Snapshot(live, state_bytes(llm)))
        self._owner = key
        saved = self._snapshots.get(key) if key else None
        if key is None or saved is None:
            return False
        self._snapshots.move_to_end(key)
        usable = min(common_prefix(saved.tokens, tokens), len(tokens) - 1)
        if usable <= common_prefix(live, tokens):
            return False
        return load_state(llm, saved.tokens, saved.data, usable)

    def lose_live(self) -> None:
        """The live context was reset: it holds nobody's state any more."""
        self._owner = None

    def clear(self) -> None:
        self._owner = None
        self._snapshots.clear()

    def _keep(self, key: str, snapshot: Snapshot) -> None:
        self._snapshots[key] = snapshot
        self._snapshots.move_to_end(key)
        total = sum(len(s.data) for s in self._snapshots.values())
        while total > self.limit_bytes and len(self._snapshots) > 1:
            _, dropped = self._snapshots.popitem(last=False)
            total -= len(dropped.data)


def common_prefix(a: list[int], b: list[int]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
