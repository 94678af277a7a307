"""CPU time of the database work of one agent message, in this process, per backend.

    python -m benchmarks.step_store                  # both backends, 2000 messages each
    python -m benchmarks.step_store --messages 500 --backends sqlite --profile

A message's store work, as the server does it (tests/store/test_query_counts.py pins the
statements): the transaction that checks that no call waits for approval and records the
run; the turn's start read (the agent with its blocks and tool versions, the window's new
rows); and the step's write (its two messages, its row, the run's end), through the
shared-write path. The figure is user + system CPU of this process per message, which
leaves out the database server's own (PostgreSQL's; SQLite's runs here, inline).
`--profile` prints cProfile's call counts and the costliest functions.
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tests.support.postgres import PostgresCluster, create_database
from troupe.agent.history import HistoryWindows
from troupe.agent.messages import Message
from troupe.agent.turn import InputMessage
from troupe.ids import new_id
from troupe.runs.new_runs import new_runs
from troupe.runs.request import RunRequest
from troupe.schemas.agents import AgentCreate
from troupe.services import agents as agent_service
from troupe.services.approvals import refuse_if_waiting
from troupe.services.tools import sync_builtin_tools
from troupe.store import Database, step_reads
from troupe.store import messages as message_store
from troupe.store import runs as run_store
from troupe.store.messages import History
from troupe.store.steps import StepStore, StepWrite
from troupe.store.tables import RunRow
from troupe.tools.core import core_registry


class Bench:
    def __init__(self, db: Database, agent_id: str) -> None:
        self.db = db
        self.history = History(agent_id)
        self.steps = StepStore(db)
        self.tools = step_reads.ToolShelf()
        self.windows = HistoryWindows(limit_rows=300, max_rows=100_000)
        self.last_seq = 0

    async def message(self, text: str) -> None:
        run = await self.record_run(text)
        await self.start_turn()
        await self.write_step(run, text)

    async def record_run(self, text: str) -> RunRow:
        request = RunRequest([InputMessage(role="user", text=text)], 10)
        (run,) = new_runs([(self.history.agent_id, request)], background=False)

        def record(connection: Connection) -> None:  # the run, once no call waits
            refuse_if_waiting(connection, history=self.history)
            run_store.insert_runs(connection, [run], None)

        await self.db.write_now(record)
        return run

    async def start_turn(self) -> None:  # as agent.turn_start.TurnStarts reads
        after = self.windows.held_seqs([self.history])
        limit = self.windows.limit_rows + 1

        def read(connection: Connection) -> tuple[dict[str, Any], Any]:
            found = step_reads.agent_starts_now(connection, [self.history.agent_id])
            return found, message_store.messages_after_each_now(connection, after, limit)

        starts, newer = await self.db.read_now(read)
        versions = {a: s.tool_versions for a, s in starts.items()}
        await self.tools.tools_at(self.db.read, versions)
        await self.windows.read_each(self.db.read, [self.history], after, newer)

    async def write_step(self, run: RunRow, text: str) -> None:
        step_id = new_id("step")
        rows = [  # the agent loop's own message type, as a step writes it
            Message("user_message", content=text, run_id=run.id, is_input=True),
            Message("assistant_message", content="an answer " * 10, step_id=step_id, run_id=run.id),
        ]
        write = StepWrite(
            self.history, self.last_seq, rows, step_id, run.id, "test/echo", 100, 10, 5,
            {"prompt_tokens": 100, "completion_tokens": 10, "step_count": 1},
            ends_run_with="end_turn",
        )  # fmt: skip
        await self.steps.commit(write)
        self.last_seq += len(rows)


async def measure(url: str, messages: int, profile: bool) -> float:
    db = Database(url)
    await db.migrate()
    try:
        await sync_builtin_tools(db, core_registry())
        agent = await agent_service.create_agent(
            db, core_registry(), AgentCreate(name="bench", model="test/echo")
        )
        bench = Bench(db, agent.id)
        for i in range(200):  # a window of history, warm caches
            await bench.message(f"warm-up {i}")
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        chunks = []  # the median of ten chunks: a burst of other load moves one or two
        for chunk in range(10):
            started = time.process_time()
            for i in range(messages // 10):
                await bench.message(f"message {chunk}.{i}")
            chunks.append((time.process_time() - started) / (messages // 10))
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler)
            calls = stats.total_calls / messages  # type: ignore[attr-defined]
            print(f"function calls per message: {calls:.0f}")
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumtime").print_stats(60)
        return statistics.median(chunks) * 1000
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    for backend in args.backends.split(","):
        cluster = None
        with tempfile.TemporaryDirectory() as folder:
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            else:
                cluster = PostgresCluster().start()
                url = create_database(cluster.admin_url)
            try:
                ms = asyncio.run(measure(url, args.messages, args.profile))
            finally:
                if cluster is not None:
                    cluster.stop()
        print(f"{backend}: {ms:.3f} ms CPU per message (load {load:.1f})")


if __name__ == "__main__":
    main()
