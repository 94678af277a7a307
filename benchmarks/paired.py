"""Server CPU per message of this tree against another revision, measured side by side.

    python -m benchmarks.paired                      # this tree against main
    python -m benchmarks.paired --base f0ead1b --messages 1000 --model test/echo@0ms
    python -m benchmarks.paired --model openai/echo@0ms --messages 300   # over HTTP
    python -m benchmarks.paired --base HEAD --base-python /usr/bin/python3.11   # interpreters

On a machine shared with other work, two benchmark runs made one after the other differ by
more than most single changes save (the load moves between them). Here both servers run at
once, each on its own SQLite database with one agent whose window is first filled, and get
their messages alternately, one at a time, so that whatever load there is falls on both
alike. Each figure is a server process's CPU time (user + system) over all its messages,
divided by their number: read twice per phase, not around each message, as the kernel
counts CPU time in ticks of 10 ms. The other revision is taken with `git archive` into a
temporary folder (no worktree) and run with this tree's environment, or with
`--base-python` (an interpreter whose environment holds troupe's dependencies).

With a model over HTTP (`openai/...`, `anthropic/...`) both servers call one fake model
server of the benchmarks (`benchmarks/model_server.py`), and after each message its request
is sent again straight to that server, as the window benchmark does to time the model.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.models import HTTP_PATHS, MODEL_ROUTES, FakeModelServer
from tests.support.servers import free_port

HERE = Path(__file__).resolve().parent.parent


def start(
    tree: Path, home: Path, python: str, model_env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    """A troupe server running `tree`'s code (its folder first on the server's path)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROUPE_")}
    env.update(
        TROUPE_DATABASE_URL=f"sqlite:///{home}/troupe.db",
        TROUPE_HOME=str(home),
        TROUPE_ENABLE_TEST_MODELS="1",
        PYTHONPATH=str(tree),
        **model_env,
    )
    command = [python, "-m", "troupe", "server", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--log-level", "warning"]
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=log)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    deadline = time.monotonic() + 120
    while True:
        try:
            if client.get("/v1/health").status_code == 200:
                return process, client
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server of {tree} did not start; see {home}/server.log")
        time.sleep(0.1)


def send(client: httpx.Client, agent_id: str, text: str) -> None:
    body = {"messages": [{"role": "user", "content": text}]}
    client.post(f"/v1/agents/{agent_id}/messages", json=body).raise_for_status()


def measure(
    trees: dict[str, tuple[Path, str]],
    root: Path,
    args: argparse.Namespace,
    model: FakeModelServer | None,
) -> dict[str, float]:
    processes, clients, agents = {}, {}, {}
    direct = httpx.Client(base_url=model.url, timeout=60) if model is not None else None
    try:
        for name, (tree, python) in trees.items():
            (root / name).mkdir(parents=True)
            model_env = model.env() if model is not None else {}
            processes[name], clients[name] = start(tree, root / name, python, model_env)
            spec = {"name": "paired", "model": args.model, "include_base_tools": True}
            created = clients[name].post("/v1/agents", json=spec)
            created.raise_for_status()
            agents[name] = created.json()["id"]
        for i in range(args.fill):
            for name in trees:
                send(clients[name], agents[name], f"filling the window {i}")
        cpu = {name: psutil.Process(p.pid) for name, p in processes.items()}
        before = {name: sum(p.cpu_times()[:2]) for name, p in cpu.items()}
        order = list(trees)
        for i in range(args.messages):
            for name in order if i % 2 == 0 else reversed(order):
                send(clients[name], agents[name], f"message {i}")
                if direct is not None and model is not None:
                    again = direct.get("/last-request").content
                    headers = {"content-type": "application/json"}
                    direct.post(MODEL_ROUTES[model.wire], content=again, headers=headers)
        return {
            name: (sum(p.cpu_times()[:2]) - before[name]) * 1000 / args.messages
            for name, p in cpu.items()
        }
    finally:
        if direct is not None:
            direct.close()
        for client in clients.values():
            client.close()
        for process in processes.values():
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.paired", description=__doc__)
    parser.add_argument("--base", default="main", help="the revision to compare against")
    parser.add_argument("--messages", type=int, default=600, help="messages each, measured")
    parser.add_argument("--fill", type=int, default=110, help="messages each before (window)")
    parser.add_argument("--model", default="test/echo@0ms")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--base-python", default=sys.executable, help="the interpreter of the base's server"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="troupe-paired-"))
    wire = args.model.split("/", 1)[0]
    model = FakeModelServer(wire).start() if wire in HTTP_PATHS else None
    try:
        base = root / "base"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(HERE), "archive", args.base], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        trees = {args.base: (base, args.base_python), "this tree": (HERE, sys.executable)}
        for round_ in range(args.rounds):  # keys name the folders too
            load = os.getloadavg()[0]
            figures = measure(trees, root / f"round-{round_}", args, model)
            shown = "  ".join(f"{name}: {ms:.3f}" for name, ms in figures.items())
            print(f"server CPU ms per message, load {load:.1f}:  {shown}", flush=True)
    finally:
        if model is not None:
            model.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
