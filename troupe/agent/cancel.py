"""Stopping a turn from outside. A cancel abandons what the turn is waiting on (a model call,
a running tool, its agent's lock) at once, except while the turn writes to the store: a
step's transaction is never cut, and the turn stops at its next safe point instead (before
the next model call or tool call)."""

import asyncio


class RunCancelled(Exception):
    """The turn's run was cancelled; raised at a safe point of the turn."""


class CancelSignal:
    def __init__(self) -> None:
        self.requested = False
        self._task: asyncio.Task[object] | None = None  # the task the turn runs in
        self._protected = 0
        self._interrupted = False  # the task was cancelled by this signal

    def request(self) -> None:
        """Ask the turn to stop; interrupts its wait at once unless it is writing."""
        if self.requested:
            return
        self.requested = True
        if self._task is not None and not self._protected and not self._task.done():
            self._interrupted = True
            self._task.cancel()

    def armed(self) -> "_Armed":
        """While the block runs, a request interrupts the current task."""
        return _Armed(self)

    def protected(self) -> "_Protected":
        """A write that must finish once begun: a request waits for the safe point after it."""
        return _Protected(self)

    def check(self) -> None:
        """A safe point: stop here if a cancel was requested."""
        if self.requested:
            raise RunCancelled

    def claims(self, error: BaseException) -> bool:
        """Whether `error` is this signal's doing (a `RunCancelled`, or the task cancel it
        sent, which is then taken back so the task runs on)."""
        if isinstance(error, RunCancelled):
            return True
        if not isinstance(error, asyncio.CancelledError) or not self._interrupted:
            return False
        self._interrupted = False
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        return True


# The blocks of `armed` and `protected`, as classes: every step enters them, and a generator
# context manager costs several times what they do.


class _Armed:
    __slots__ = ("signal",)

    def __init__(self, signal: CancelSignal) -> None:
        self.signal = signal

    def __enter__(self) -> None:
        self.signal._task = asyncio.current_task()

    def __exit__(self, *_: object) -> None:
        self.signal._task = None


class _Protected:
    __slots__ = ("signal",)

    def __init__(self, signal: CancelSignal) -> None:
        self.signal = signal

    def __enter__(self) -> None:
        self.signal._protected += 1

    def __exit__(self, *_: object) -> None:
        self.signal._protected -= 1
