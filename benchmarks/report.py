"""The run's one JSON object, the targets it is judged against, and a readable table."""

import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from benchmarks.reference import reference_cpu_ms


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        # Which build: a distribution's CPython (PGO and LTO) runs troupe's Python ~15% faster
        # than one compiled without them (pyenv's default), on the same machine.
        "python_executable": os.path.realpath(sys.executable),
        "python_build": " ".join(platform.python_build()),
        "reference_cpu_ms_at_start": reference_cpu_ms(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


BACKENDS = ("sqlite", "postgres")
HTTP_MODELS = ("openai", "anthropic")


def setup_name(backend: str, model_path: str) -> str:
    """A result's key under its benchmark: `sqlite` with the in-process models,
    `sqlite/openai` with the same models over HTTP, and so on."""
    return backend if model_path == "in-process" else f"{backend}/{model_path}"


OVER_HTTP = [setup_name(b, m) for b in BACKENDS for m in HTTP_MODELS]


@dataclass(frozen=True)
class Target:
    benchmark: str
    backend: str
    what: str
    read: Callable[[dict[str, Any]], float]
    goal: float
    at_most: bool  # True: the figure must stay at or under the goal

    def judge(self, results: dict[str, Any]) -> dict[str, Any] | None:
        found = results.get(self.benchmark, {}).get(self.backend)
        if found is None:
            return None
        try:
            value = self.read(found)
        except (KeyError, TypeError):
            return None  # not measured in this run (e.g. N = 100 is left out of --quick)
        met = value <= self.goal if self.at_most else value >= self.goal
        sign = "≤" if self.at_most else "≥"
        return {"target": f"{self.what} {sign} {self.goal:g}", "value": value, "met": met}


TARGETS = [
    Target("step", "sqlite", "step overhead median (ms, SQLite)",
           lambda r: r["round_trip_ms"]["median"], 5, True),
    *(Target("create", b, f"agents created per s ({b})",
             lambda r: r["agents_per_s"], 200, False) for b in BACKENDS),
    *(Target("broadcast", b, f"broadcast ratio at N = 100, median ({b})",
             lambda r: r["n100"]["ratio"]["median"], 1.2, True) for b in BACKENDS),
    *(Target("memory", b, f"RSS with the idle agents, MB ({b})",
             lambda r: r["rss_mb"]["after_listing_all"], 200, True) for b in BACKENDS),
    *(Target("history", b, f"history growth, long ÷ short ({b})",
             lambda r: r["ratio"], 1.2, True) for b in BACKENDS),
    *(Target("contention", b, f"lost updates ({b})",
             lambda r: r["lost_updates"], 0, True) for b in BACKENDS),
    *(Target("wake", b, f"async send to target turn start, median ms ({b})",
             lambda r: r["commit_to_turn_start_ms"]["median"], 20, True) for b in BACKENDS),
    *(Target("tracing", b, f"tracing on: server CPU per step, added ms ({b})",
             lambda r: r["tracing_cpu_ms_per_step"], 0.5, True) for b in BACKENDS),
    # Over HTTP models (issue 20): a full window costs no more than the model's own time.
    *(Target("window", b, f"full window: round trip - model's direct time, median ms ({b})",
             lambda r: r["round_trip_minus_direct_ms"]["median"], 3, True) for b in OVER_HTTP),
    *(Target("window", b, f"full window: server CPU per message, ms ({b})",
             lambda r: r["server_cpu_ms_per_message"], 3, True) for b in OVER_HTTP),
    *(Target("broadcast", b, f"first broadcast to 20 on a fresh server, median ({b})",
             lambda r: r["n20"]["first_ratio"]["median"], 1.3, True) for b in OVER_HTTP),
    *(Target("broadcast", b, f"later broadcasts to 20, median ({b})",
             lambda r: r["n20"]["ratio"]["median"], 1.1, True) for b in OVER_HTTP),
    *(Target("broadcast", b, f"broadcast ratio at N = 100, median ({b})",
             lambda r: r["n100"]["ratio"]["median"], 1.2, True) for b in OVER_HTTP),
]  # fmt: skip


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for t in TARGETS if (j := t.judge(results)) is not None]


def _cells(name: str, result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, value, settings) rows of one benchmark's result on one backend."""
    settings = ", ".join(f"{k}={v}" for k, v in result.get("settings", {}).items())
    rows: list[tuple[str, str, str]] = []

    def add(metric: str, value: Any) -> None:
        rows.append((metric, value, settings if not rows else ""))

    for key, value in result.items():
        if key == "settings":
            continue
        if isinstance(value, dict) and "median" in value:
            add(key, f"median {value['median']}  p95 {value['p95']}  (n={value['n']})")
        elif isinstance(value, dict):
            for inner_key, inner in value.items():
                if isinstance(inner, dict) and "median" in inner:
                    add(f"{key} {inner_key}", f"median {inner['median']}  p95 {inner['p95']}")
                elif isinstance(inner, dict):
                    add(f"{key} {inner_key}", ", ".join(f"{k} {v}" for k, v in inner.items()))
                elif inner_key != "workers":
                    add(f"{key} {inner_key}", str(inner))
        else:
            add(key, str(value))
    return rows


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=150)
    table = Table(title="troupe benchmarks", show_lines=True)
    for column in ("benchmark", "backend/models", "metric", "value", "settings"):
        table.add_column(column, overflow="fold")
    for name, by_backend in report["results"].items():
        for backend_name, result in by_backend.items():
            for i, (metric, value, settings) in enumerate(_cells(name, result)):
                table.add_row(name if i == 0 else "", backend_name if i == 0 else "",
                              metric, value, settings)  # fmt: skip
    console.print(table)
    targets = Table(title="targets")
    for column in ("target", "value", "met"):
        targets.add_column(column)
    for entry in report["targets"]:
        targets.add_row(entry["target"], str(entry["value"]), "yes" if entry["met"] else "NO")
    console.print(targets)
