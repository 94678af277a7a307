"""`python -m benchmarks [--quick] [--only step,create,...] [--backends sqlite,postgres]
[--models in-process,openai,anthropic]`: run the benchmarks against real troupe servers,
with troupe's in-process test models and with the same models over HTTP, print one JSON
object and a table, and write the JSON to a file (`--output`, default
benchmarks/results.json). Results are keyed by benchmark, then by backend and model path
(`sqlite` in process, `sqlite/openai` over HTTP...)."""

import argparse
import asyncio
import dataclasses
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import cases, harness, models
from benchmarks.report import BACKENDS, judge, machine, print_report, setup_name


def _names(value: str, known: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown: {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    known = tuple(cases.BENCHMARKS)
    parser.add_argument(
        "--only",
        type=lambda v: _names(v, known),
        default=list(known),
        help=f"comma-separated subset of: {', '.join(known)}",
    )
    parser.add_argument(
        "--backends",
        type=lambda v: _names(v, BACKENDS),
        default=list(BACKENDS),
        help="comma-separated subset of: sqlite, postgres",
    )
    parser.add_argument(
        "--models",
        type=lambda v: _names(v, models.PATHS),
        default=list(models.PATHS),
        help="comma-separated subset of: in-process (troupe's test models), openai and "
        "anthropic (the same models over HTTP, from fake servers in their own processes)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, to check a run fast")
    parser.add_argument(
        "--window-runs",
        type=int,
        default=None,
        metavar="N",
        help="fresh servers the window benchmark runs on, one after another (default: 5, 1 "
        "with --quick)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results.json"), help="JSON file to write"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="record a py-spy flame graph of every server process into DIR",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    scale = cases.QUICK if args.quick else cases.FULL
    if args.window_runs is not None:
        scale = dataclasses.replace(scale, window_runs=args.window_runs)
    harness.PROFILE_DIR = args.profile
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with models.fake_servers(args.models) as paths:
        for backend_name in args.backends:
            with harness.backend(backend_name) as bk:
                for path in paths.values():
                    with models.on_path(path):
                        for name in args.only:
                            setup = setup_name(backend_name, path.name)
                            console.log(f"{name} on {setup}...")
                            result = await _one(name, bk, scale, path, console)
                            results.setdefault(name, {})[setup] = result
    return {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:]),
        "quick": args.quick,
        "model_paths": args.models,
        "machine": machine(),
        "scale": cases.scale_settings(scale),
        "total_seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "targets": judge(results),
    }


async def _one(
    name: str, bk: harness.Backend, scale: cases.Scale, path: models.ModelPath, console: Console
) -> dict[str, Any]:
    """One benchmark on one backend and model path; over HTTP with the fake model server's
    own count and time of the requests it answered."""
    began = time.perf_counter()
    if path.server is not None:
        await path.server.reset()
    try:
        result = await cases.BENCHMARKS[name](bk, scale)
    except Exception as exc:  # one failed benchmark does not lose the others
        console.print_exception()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    if path.server is not None:
        await models.settle()
        result["model_server"] = await path.server.stats()
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = Console(stderr=True, width=150)
    report = asyncio.run(run(args, console))
    text = json.dumps(report, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    print(text)
    print_report(report, console)
    console.print(f"written to {args.output}")


if __name__ == "__main__":
    main()
