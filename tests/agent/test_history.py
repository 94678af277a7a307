"""The history window a process keeps between steps is exactly what a fresh read gives."""

import random

from troupe.agent.exchanges import first_fitting, split_exchanges
from troupe.agent.history import HeldSummary, HistoryWindows, Window
from troupe.store.messages import OPENING_TYPES, History
from troupe.store.tables import MessageRow

LIMIT = 12


def _history(length: int, seed: int) -> list[MessageRow]:
    """User turns followed by steps of reasoning, tool calls, their returns and replies."""
    rng = random.Random(seed)
    rows: list[MessageRow] = []
    step = 0
    while len(rows) < length:
        kind = rng.choice(["user", "user", "system", "tool", "tool", "reply", "long"])
        seq = len(rows) + 1
        if kind in {"user", "system"}:
            rows.append(MessageRow(id=f"m{seq}", seq=seq, message_type=f"{kind}_message",
                                   content=f"{kind} {seq}"))  # fmt: skip
            continue
        step += 1
        calls = rng.randint(3, 9) if kind == "long" else 1
        for n in range(calls):
            seq = len(rows) + 1
            rows.append(MessageRow(id=f"m{seq}", seq=seq, message_type="tool_call_message",
                                   step_id=f"s{step}", tool_call_id=f"c{seq}",
                                   tool_name="search", tool_arguments=f'{{"n": {n}}}'))  # fmt: skip
            rows.append(MessageRow(id=f"m{seq + 1}", seq=seq + 1,
                                   message_type="tool_return_message", step_id=f"s{step}",
                                   tool_call_id=f"c{seq}", tool_name="search",
                                   content=f"found {seq}"))  # fmt: skip
        if kind == "reply":
            seq = len(rows) + 1
            rows.append(MessageRow(id=f"m{seq}", seq=seq, message_type="assistant_message",
                                   step_id=f"s{step}", tool_call_id=f"r{seq}",
                                   content=f"reply {seq}"))  # fmt: skip
    return rows[:length]


def _fresh(rows: list[MessageRow]) -> Window:
    """What reading the store gives: the newest LIMIT rows, cut to start at an opening."""
    newest = rows[-LIMIT:]
    start = next((i for i, r in enumerate(newest) if r.message_type in OPENING_TYPES), None)
    window = Window(LIMIT)
    window.extend(newest[start:] if start is not None else [])
    window.last_seq = rows[-1].seq if rows else 0
    return window


def _turns(window: Window) -> list[object]:
    return window.fit([], budget_tokens=10**9).messages


def test_a_window_extended_step_by_step_matches_a_fresh_read_after_every_step() -> None:
    for seed in range(40):
        rows = _history(120, seed)
        rng = random.Random(seed)
        kept = Window(LIMIT)
        written = 0
        while written < len(rows):
            chunk = rows[written : written + rng.randint(1, 6)]
            kept.extend(chunk)
            written += len(chunk)
            fresh = _fresh(rows[:written])
            assert _turns(kept) == _turns(fresh), (seed, written)
            assert kept.last_seq == rows[written - 1].seq
            assert kept.rows <= LIMIT


def test_pending_inputs_join_the_window_as_their_own_exchange() -> None:
    rows = _history(30, seed=7)
    window = _fresh(rows)
    pending = [MessageRow(id="new", seq=0, message_type="user_message", content="now")]
    turns = window.fit(pending, budget_tokens=10**9).messages
    assert (turns[-1].role, turns[-1].content) == ("user", "now")
    assert turns[:-1] == _turns(window)
    assert turns == [m for e in split_exchanges([*window_rows(window), *pending])
                     for m in e.messages]  # fmt: skip


def window_rows(window: Window) -> list[object]:
    return [row for exchange in window.exchanges for row in exchange.rows]


def test_the_windows_held_stay_under_their_row_bound_dropping_the_least_recent() -> None:
    windows = HistoryWindows(limit_rows=LIMIT, max_rows=3 * LIMIT)
    for n in range(10):
        talk = [MessageRow(id=f"m{i}", seq=i, message_type="user_message", content=f"{n}")
                for i in range(1, 5)]  # fmt: skip
        window = _fresh(talk)
        assert window.rows == 4
        windows.stored(History(f"agent-{n}"), window, [])
        assert sum(w.rows + 1 for w in windows._windows.values()) <= 3 * LIMIT
    assert list(windows._windows)[-1] == History("agent-9")
    assert History("agent-0") not in windows._windows


def _fit_afresh(
    window: Window, pending: list[MessageRow], budget: int
) -> tuple[list[object], bool]:
    """Window.fit computed from the exchanges alone (the window keeps their turns and
    tokens as it changes: this is what those must always give)."""
    exchanges = [*window.exchanges, *split_exchanges(pending)]
    summary = window.summary
    room = budget - (summary.tokens if summary is not None else 0)
    first = first_fitting(exchanges, room)
    turns = [m for e in exchanges[first:] for m in e.messages]
    head: list[object] = [summary.message] if summary is not None else []
    return [*head, *turns], first > 0 or window.first_seq > window.summarized_seq + 1


def test_fitting_what_the_window_keeps_is_fitting_its_exchanges_afresh() -> None:
    pending = [MessageRow(id="new", seq=0, message_type="user_message", content="now " * 30)]
    for seed in range(30):
        rows = _history(150, seed)
        rng = random.Random(seed)
        kept = Window(LIMIT * 2)
        written = 0
        while written < len(rows):
            chunk = rows[written : written + rng.randint(1, 6)]
            kept.extend(chunk)
            written += len(chunk)
            if rng.random() < 0.1 and len(kept.exchanges) > 1:  # a summary evicts the oldest
                through = kept.exchanges[0].rows[-1].seq
                kept.summarized(HeldSummary.of(f"summary {written}", through, written), 1)
            for index, budget in enumerate((0, 40, 120, 10**9, 10**9)):
                added = pending if index % 2 else []
                fitted = kept.fit(added, budget)
                assert (fitted.messages, fitted.summary_due) == _fit_afresh(kept, added, budget), (
                    seed,
                    written,
                    budget,
                )


def _store_newest_step(rows: list[MessageRow], scan: int = 64) -> list[MessageRow]:
    """What `store.messages.newest_step` reads: the rows within `scan` sequence numbers of
    the newest one that share its step (none when it has no step)."""
    if not rows or rows[-1].step_id is None:
        return []
    newest = rows[-1]
    return [r for r in rows if r.seq > newest.seq - scan and r.step_id == newest.step_id]


def test_the_newest_step_a_held_window_tells_is_what_the_store_reads() -> None:
    """The record of a run checks for calls waiting on approval from the held window when
    no row came after it (runs.executor `open_run`): it answers as the store would, or
    not at all."""
    history = History("agent-1")
    answered = asked = 0
    for seed in range(40):
        rows = _history(120, seed)
        rng = random.Random(seed)
        windows = HistoryWindows(LIMIT, 10_000)
        assert windows.newest_step(history) is None  # nothing held: ask the store
        window = Window(LIMIT)
        written = 0
        while written < len(rows):
            chunk = rows[written : written + rng.randint(1, 6)]
            windows.stored(history, window, chunk)
            written += len(chunk)
            told = windows.newest_step(history)
            asked += 1
            if told is not None:  # else the store is asked, which is always right
                answered += 1
                expected = _store_newest_step(rows[:written])
                assert [r.id for r in told] == [r.id for r in expected], (seed, written)
        windows.forget(history)
        assert windows.newest_step(history) is None
    assert answered > asked / 2  # most of the time the window answers
