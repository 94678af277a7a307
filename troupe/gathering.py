"""Requests made during one turn of the event loop, served together.

A hundred turns that start or finish at the same moment (the workers of a broadcast) each
want the same kind of database work. Served one by one, each pays a session, its
statements and, on PostgreSQL, their round trips. Gathered, they pay them once: a request
waits at most one loop turn for the others that are ready too, and the server of the
batch answers each.

`ask_or_serve` spares a lone request that loop turn: the first request of a loop turn,
with none being served, is served at once in its asker's own task; the others asked in
the same turn (a burst) are gathered, as `ask` does."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

R = TypeVar("R")  # a request
A = TypeVar("A")  # its answer

# Answers in the order of the requests: the value, or the exception that request gets.
Serve = Callable[[list[R]], Awaitable[Sequence[A | Exception]]]


class Gathering(Generic[R, A]):
    def __init__(
        self,
        serve: Serve[R, A],
        *,
        max_batch: int = 256,
        unclaimed: Callable[[R, A], None] | None = None,
    ) -> None:
        """`unclaimed(request, answer)` is told of an answer whose asker was cancelled
        while it waited (e.g. to undo what was done for it)."""
        self.serve = serve
        self.max_batch = max_batch
        self.unclaimed = unclaimed
        self._waiting: list[tuple[R, asyncio.Future[A]]] = []
        self._server: asyncio.Task[None] | None = None
        self._served_at_once = 0  # requests being served by `ask_or_serve` now
        self._turn_taken = False  # a request was served at once in this loop turn

    async def ask_or_serve(self, request: R) -> A:
        """The answer to `request`: served at once, in this task, when it is the first
        request of this loop turn and none is being served (no task, no loop turn for a
        request nothing would have joined); else asked as `ask` does. Served at once, it
        is not gathered with later requests, and cancelling its asker cancels it."""
        if (
            self._turn_taken
            or self._served_at_once
            or self._waiting
            or (self._server is not None and not self._server.done())
        ):
            return await self.submit(request)
        self._turn_taken = True
        asyncio.get_running_loop().call_soon(self._next_turn)
        self._served_at_once += 1
        try:
            (answer,) = await self.serve([request])
        finally:
            self._served_at_once -= 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _next_turn(self) -> None:
        self._turn_taken = False

    def ask(self, request: R) -> "asyncio.Future[A]":
        """The request queued now; await the answer (no coroutine of its own: one frame
        less to resume for each request)."""
        return self.submit(request)

    def submit(self, request: R) -> "asyncio.Future[A]":
        """Queue the request now (requests are served in the order they were queued) and
        return the future of its answer."""
        answer: asyncio.Future[A] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, answer))
        if self._server is None or self._server.done():
            # A task: it starts after everything else ready in this loop turn had its
            # chance to ask too.
            self._server = asyncio.create_task(self._serve_waiting())
        return answer

    async def settle(self) -> None:
        """Wait until every request made so far has been served."""
        while self._server is not None and not self._server.done():
            await asyncio.gather(self._server, return_exceptions=True)

    async def _serve_waiting(self) -> None:
        batch: list[tuple[R, asyncio.Future[A]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                try:
                    answers = await self.serve([request for request, _ in batch])
                except Exception as exc:
                    answers = [exc] * len(batch)
                for (request, future), answer in zip(batch, answers, strict=True):
                    if future.done():  # its asker was cancelled
                        if self.unclaimed is not None and not isinstance(answer, Exception):
                            self.unclaimed(request, answer)
                        continue
                    if isinstance(answer, Exception):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        except BaseException as exc:  # cancelled (shutdown): nobody may wait forever
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.set_exception(exc)
            self._waiting.clear()
            raise
