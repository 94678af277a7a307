"""`python -m benchmarks [--quick] [--only step,create,...] [--backends sqlite,postgres]`:
run the benchmarks against real troupe servers, print one JSON object and a table, and
write the JSON to a file (`--output`, default benchmarks/results.json)."""

import argparse
import asyncio
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import cases, harness
from benchmarks.report import BACKENDS, judge, machine, print_report


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
    parser.add_argument("--quick", action="store_true", help="smaller sizes, to check a run fast")
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
    harness.PROFILE_DIR = args.profile
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for backend_name in args.backends:
        with harness.backend(backend_name) as bk:
            for name in args.only:
                console.log(f"{name} on {backend_name}...")
                began = time.perf_counter()
                try:
                    result = await cases.BENCHMARKS[name](bk, scale)
                except Exception as exc:  # one failed benchmark does not lose the others
                    console.print_exception()
                    result = {"error": f"{type(exc).__name__}: {exc}"}
                result["seconds"] = round(time.perf_counter() - began, 1)
                results.setdefault(name, {})[backend_name] = result
    return {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:]),
        "quick": args.quick,
        "machine": machine(),
        "scale": cases.scale_settings(scale),
        "total_seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "targets": judge(results),
    }


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
