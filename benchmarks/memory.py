"""`python -m benchmarks.memory [--quick] [--backends sqlite,postgres]`: archival memory on
each backend, in process through the services and the store (the HTTP layer is measured by
the main benchmarks):

- insert rate: passages embedded by the embedded embedder and stored, in batches of 100
  (`POST /v1/archives/{id}/passages/batch`'s path); target >= 100 passages/s;
- search latency: one hybrid search (query embedding, vector + keyword SQL, ranking) over
  an archive of 10,000 and of 100,000 passages; target <= 50 ms median. The bulk of those
  passages carry random unit vectors (their ranking costs the same as real ones, and
  embedding 100,000 texts would take a quarter of an hour here);
- search right after a write: one passage stored, then one hybrid search, 30 times over the
  same archives (an agent storing and searching, or two sharing an archive): what is held in
  memory catches up from the passage log (`--whole-reads`: reads the archive again instead,
  as before the log, for comparison);
- recall@1 on the paraphrase set (tests/support/retrieval_set.py), hybrid and keyword-only.

Prints a table and writes JSON (`--output`, default benchmarks/memory-results.json)."""

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks import harness
from tests.support.retrieval_set import PAIRS
from troupe.llm.embeddings import DEFAULT_EMBEDDING, config_for_handle, resolve_embedder
from troupe.schemas.passages import ArchiveCreate, PassageCreate
from troupe.services import archives as archive_service
from troupe.store import Database, vector_cache
from troupe.store import passages as passage_store
from troupe.store.passages import NewPassage, PassageFilter
from troupe.tools import archival_memory as archival

WORDS = [
    "memory",
    "agent",
    "note",
    "meeting",
    "travel",
    "budget",
    "family",
    "project",
    "garden",
    "music",
    "recipe",
]


def _embedder() -> Any:
    embedder = resolve_embedder(config_for_handle(DEFAULT_EMBEDDING))
    assert embedder is not None
    return embedder


async def insert_rate(db: Database, count: int) -> dict[str, Any]:
    archive = await archive_service.create_archive(db, ArchiveCreate(name="insert-rate"))
    texts = [f"Note {i}: the {random.choice(WORDS)} went well on day {i}." for i in range(count)]
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, 100):
        batch = [PassageCreate(text=t) for t in texts[start : start + 100]]
        await archive_service.add_passages(db, archive.id, batch)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "passages": count,
        "seconds": round(elapsed, 2),
        "per_s": round(count / elapsed, 1),
        # CPU seconds of this process, every thread (the embedder's included): what the
        # machine's other load barely moves.
        "per_cpu_s": round(count / cpu, 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


async def _add_random(db: Database, archive_id: str, handle: str, start: int, n: int) -> None:
    """`n` passages with random unit vectors, numbered from `start`."""
    vectors = np.random.default_rng(start).standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        NewPassage(f"{WORDS[(start + i) % len(WORDS)]} passage {start + i}", v.tolist())
        for i, v in enumerate(vectors)
    ]
    async with db.write() as session:
        await passage_store.insert_passages(
            session, archive_id, rows, agent_id=None, embedding_handle=handle
        )


async def _filled(db: Database, size: int, handle: str) -> str:
    archive = await archive_service.create_archive(db, ArchiveCreate(name=f"search-{size}"))
    for start in range(0, size, 5000):
        await _add_random(db, archive.id, handle, start, min(5000, size - start))
    return archive.id


async def _timed_search(
    db: Database, embedder: Any, archive_id: str, query: str
) -> tuple[float, float]:
    """Wall and CPU ms of one hybrid search, embedding the query included."""
    started, cpu = time.perf_counter(), time.process_time()
    (vector,) = await embedder.embed([query])
    async with db.read() as session:
        await archival.search(
            session,
            PassageFilter([archive_id]),
            query,
            10,
            query_vector=vector,
            handle=embedder.handle,
        )
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


async def _searches(db: Database, size: int, rounds: int, write_first: bool) -> dict[str, Any]:
    """`rounds` hybrid searches over an archive of `size` passages, each after storing one
    passage when `write_first` (another writer's, as far as the search knows: it learns of
    it by the archive's version). The first search after filling is left out then: it is
    the one that reads the archive whole."""
    embedder = _embedder()
    archive_id = await _filled(db, size, embedder.handle)
    queries = [q for q, _ in PAIRS]
    if write_first:
        await _timed_search(db, embedder, archive_id, queries[-1])
    samples, cpu_samples = [], []
    for n in range(rounds):
        if write_first:
            await _add_random(db, archive_id, embedder.handle, size + n, 1)
        wall, cpu = await _timed_search(db, embedder, archive_id, queries[n % len(queries)])
        samples.append(wall)
        cpu_samples.append(cpu)
    return {
        "passages": size,
        "search_ms": harness.summary(samples),
        "search_cpu_ms": harness.summary(cpu_samples),
        "load_average": round(os.getloadavg()[0], 1),
    }


async def search_latency(db: Database, size: int, searches: int) -> dict[str, Any]:
    return await _searches(db, size, min(searches, len(PAIRS)), write_first=False)


async def search_after_write(db: Database, size: int, rounds: int) -> dict[str, Any]:
    return await _searches(db, size, rounds, write_first=True)


async def recall(db: Database) -> dict[str, float]:
    embedder = _embedder()
    archive = await archive_service.create_archive(db, ArchiveCreate(name="recall"))
    stored = await archive_service.add_passages(
        db, archive.id, [PassageCreate(text=p) for _, p in PAIRS]
    )
    ids = {p.text: p.id for p in stored}
    vectors = await embedder.embed([q for q, _ in PAIRS])
    found = {"hybrid": 0.0, "keyword_only": 0.0}
    async with db.read() as session:
        for (query, passage), vector in zip(PAIRS, vectors, strict=True):
            for name, qv in (("hybrid", vector), ("keyword_only", None)):
                top = await archival.search(
                    session,
                    PassageFilter([archive.id]),
                    query,
                    1,
                    query_vector=qv,
                    handle=embedder.handle,
                )
                found[name] += bool(top) and top[0].passage.id == ids[passage]
    return {name: round(hits / len(PAIRS), 3) for name, hits in found.items()}


async def run_backend(name: str, quick: bool, sizes: list[int], only: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    cases = [
        ("insert", lambda db: insert_rate(db, 200 if quick else 1000)),
        ("recall_at_1", recall),
        *(
            (f"search_{s}", lambda db, s=s: search_latency(db, s, 20 if quick else 50))
            for s in sizes
        ),
        *((f"after_write_{s}", lambda db, s=s: search_after_write(db, s, 30)) for s in sizes),
    ]
    with harness.backend(name) as bk:
        for label, make in cases:
            if only and not any(label.startswith(o) for o in only):
                continue
            db = Database(bk.new_database())
            try:
                await db.migrate()
                results[label] = await make(db)
            finally:
                await db.dispose()
    return results


def report(results: dict[str, Any], console: Console) -> None:
    table = Table(title="archival memory")
    table.add_column("backend")
    table.add_column("insert /s (>= 100)")
    table.add_column("recall@1 hybrid / keyword")
    table.add_column("search median ms (<= 50), by size")
    table.add_column("search median CPU ms")
    table.add_column("right after a write: median (p95) ms / CPU ms")
    for backend, r in results.items():
        searches = [v for k, v in r.items() if k.startswith("search_")]
        after = [v for k, v in r.items() if k.startswith("after_write_")]
        table.add_row(
            backend,
            f"{r['insert']['per_s']} ({r['insert']['per_cpu_s']} per CPU s)"
            if "insert" in r
            else "",
            f"{r['recall_at_1']['hybrid']} / {r['recall_at_1']['keyword_only']}"
            if "recall_at_1" in r
            else "",
            ", ".join(f"{s['passages']:,}: {s['search_ms']['median']}" for s in searches),
            ", ".join(f"{s['passages']:,}: {s['search_cpu_ms']['median']}" for s in searches),
            ", ".join(
                f"{s['passages']:,}: {s['search_ms']['median']} ({s['search_ms']['p95']})"
                f" / {s['search_cpu_ms']['median']}"
                for s in after
            ),
        )
    console.print(table)


def _whole_reads() -> None:
    """Every search after a write reads the archive whole, as before the passage log."""

    async def unreachable(*_: Any) -> None:
        return None

    vector_cache.changed_since = unreachable  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, to check a run")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", help="archive sizes, comma-separated (default by --quick)")
    parser.add_argument("--only", default="", help="cases whose name starts so, comma-separated")
    parser.add_argument("--whole-reads", action="store_true", help="no catching up (as before)")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/memory-results.json"))
    args = parser.parse_args()
    if args.whole_reads:
        _whole_reads()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    sizes = sizes or ([1_000, 10_000] if args.quick else [10_000, 100_000])
    only = [o for o in args.only.split(",") if o]
    results = {
        name: asyncio.run(run_backend(name, args.quick, sizes, only))
        for name in args.backends.split(",")
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))
    report(results, Console())


if __name__ == "__main__":
    main()
