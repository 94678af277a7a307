"""troupe.gathering: requests of one loop turn served together, each answered, and nobody
left waiting when the server of a batch goes away."""

import asyncio

import pytest

from troupe.gathering import Gathering


async def test_requests_of_one_loop_turn_are_one_batch_and_each_gets_its_answer() -> None:
    batches: list[list[int]] = []

    async def serve(batch: list[int]) -> list[int | Exception]:
        batches.append(batch)
        await asyncio.sleep(0.01)  # later requests queue meanwhile: the next batch
        return [ValueError(f"odd {n}") if n % 2 else n * 10 for n in batch]

    gathering: Gathering[int, int] = Gathering(serve)
    first = await asyncio.gather(*(gathering.ask(n) for n in range(6)), return_exceptions=True)
    assert batches == [[0, 1, 2, 3, 4, 5]]
    assert [a if isinstance(a, int) else str(a) for a in first] == [
        0, "odd 1", 20, "odd 3", 40, "odd 5"
    ]  # fmt: skip

    early = asyncio.ensure_future(gathering.ask(6))
    await asyncio.sleep(0.001)  # its batch is being served
    late = [asyncio.ensure_future(gathering.ask(n)) for n in (8, 10)]
    assert [await early, *[await t for t in late]] == [60, 80, 100]
    assert batches[1:] == [[6], [8, 10]]


async def test_a_failing_server_fails_its_batch_only() -> None:
    calls = 0

    async def serve(batch: list[str]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("store unavailable")
        return [s.upper() for s in batch]

    gathering: Gathering[str, str] = Gathering(serve)
    with pytest.raises(RuntimeError, match="store unavailable"):
        await gathering.ask("a")
    assert await gathering.ask("b") == "B"


async def test_an_answer_nobody_waits_for_any_more_goes_to_unclaimed() -> None:
    started = asyncio.Event()
    unclaimed: list[tuple[str, str]] = []

    async def serve(batch: list[str]) -> list[str | Exception]:
        started.set()
        await asyncio.sleep(0.02)
        return [f"done {s}" for s in batch]

    gathering: Gathering[str, str] = Gathering(
        serve, unclaimed=lambda request, answer: unclaimed.append((request, answer))
    )
    asker = asyncio.ensure_future(gathering.ask("x"))
    await started.wait()
    asker.cancel()
    await gathering.settle()
    assert unclaimed == [("x", "done x")]


async def test_when_the_server_is_cancelled_every_waiting_request_is_told() -> None:
    async def serve(batch: list[int]) -> list[int | Exception]:
        await asyncio.sleep(60)
        return list(batch)

    gathering: Gathering[int, int] = Gathering(serve)
    waiting = [asyncio.ensure_future(gathering.ask(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert gathering._server is not None
    gathering._server.cancel()
    for task in waiting:
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_ask_or_serve_serves_a_turns_first_request_at_once_and_gathers_the_rest() -> None:
    batches: list[tuple[list[int], bool]] = []  # (batch, served in its asker's task)
    askers: dict[int, asyncio.Task[int]] = {}
    pause = asyncio.Event()

    async def serve(batch: list[int]) -> list[int | Exception]:
        batches.append((batch, asyncio.current_task() is askers.get(batch[0])))
        if batch[0] >= 100:
            await pause.wait()  # served at once, but slowly
        return [ValueError("seven") if n == 7 else n + 1 for n in batch]

    gathering: Gathering[int, int] = Gathering(serve)

    async def ask(n: int) -> int:
        askers[n] = asyncio.current_task()  # type: ignore[assignment]
        return await gathering.ask_or_serve(n)

    first = await asyncio.gather(*(ask(n) for n in range(5)))
    assert first == [1, 2, 3, 4, 5]
    assert batches == [([0], True), ([1, 2, 3, 4], False)]
    await asyncio.sleep(0)  # a later loop turn: its first request goes at once again
    with pytest.raises(ValueError, match="seven"):
        await ask(7)
    assert batches[-1] == ([7], True)
    batches.clear()
    slow = asyncio.ensure_future(ask(100))
    await asyncio.sleep(0.01)  # later turns, while it is being served: gathered
    during = [asyncio.ensure_future(ask(n)) for n in (8, 9)]
    await asyncio.sleep(0.01)
    pause.set()
    assert [await slow, *[await t for t in during]] == [101, 9, 10]
    assert batches == [([100], True), ([8, 9], False)]
