"""Keepalive pings (Letta's `include_pings`): a `ping` event on a stream that has sent nothing
for a while, so that a proxy or load balancer does not cut an idle connection while a model
thinks or a tool runs. Foreground streams and streams read back from the store send them at
the same interval (`TROUPE_STREAM_PING_INTERVAL`, 5 s by default)."""

import asyncio
from dataclasses import dataclass
from typing import Any

DEFAULT_PING_EVERY_S = 5.0


@dataclass(frozen=True)
class Ping:
    run_id: str


class Keepalive:
    """Puts a `Ping` on a stream's queue when nothing was taken from it for `every_s`.

    One timer per stream, re-armed from its own callback: the stream's consumer only notes
    the time it took an item (`moved`), so a stream that never idles pays a clock read per
    item and nothing else. A ping goes through the same queue as everything else, after
    what is already in it, and only into an empty queue: it never overtakes nor holds back
    an event. `stop` disarms it (the stream ended, or its client left)."""

    __slots__ = ("_every_s", "_handle", "_loop", "_ping", "_queue", "last")

    def __init__(self, queue: "asyncio.Queue[Any]", ping: Ping, every_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = queue
        self._ping = ping
        self._every_s = every_s
        self.last = self._loop.time()
        self._handle = self._loop.call_at(self.last + every_s, self._due)

    def moved(self) -> None:
        self.last = self._loop.time()

    def stop(self) -> None:
        self._handle.cancel()

    def _due(self) -> None:
        now = self._loop.time()
        if now - self.last >= self._every_s * 0.999:  # the timer may fire a hair early
            if self._queue.empty():
                self._queue.put_nowait(self._ping)
            self.last = now  # a queue not empty is being read: quiet starts again now
        self._handle = self._loop.call_at(self.last + self._every_s, self._due)
