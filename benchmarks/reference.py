"""A fixed piece of Python whose CPU time tells how fast this machine runs Python right now.

On a virtual machine whose cores are shared with other guests, the same benchmark run a
minute apart differs by a quarter (measured here: 2.3 to 3.9 ms of server CPU for the same
full-window message). Reported beside a figure, this reference lets a reader tell a slow
minute from a slow change: it is the kind of work a server turn does (objects, dicts,
attribute access, JSON), run in the benchmark's own process just before the measurement.
It is no part of any target."""

import json
import time
from dataclasses import dataclass


@dataclass
class _Item:
    number: int
    text: str
    tags: list[int]


def _work() -> int:
    out = []
    for i in range(2000):
        item = _Item(i, str(i), [i, i + 1])
        out.append(json.dumps({"number": item.number, "text": item.text, "tags": item.tags}))
    return sum(len(x) for x in out)


def reference_cpu_ms(rounds: int = 15) -> float:
    """The fastest of `rounds` runs of the fixed work, in CPU milliseconds of this thread."""
    best = float("inf")
    for _ in range(rounds):
        began = time.thread_time()
        _work()
        best = min(best, time.thread_time() - began)
    return round(best * 1000, 2)
