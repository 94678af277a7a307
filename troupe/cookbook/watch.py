"""What the SDK has no call for, over plain HTTP: progress of the team's runs while a request
is in flight, and the trace of a request (`GET /v1/traces/{id}`, troupe only)."""

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

POLL_S = 1.0


def http_client(server: str) -> httpx.Client:
    headers = {}
    if key := os.environ.get("TROUPE_API_KEY") or os.environ.get("LETTA_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=server, headers=headers, timeout=30)


def fetch_trace(server: str, trace_id: str) -> dict[str, Any] | None:
    with http_client(server) as http:
        response = http.get(f"/v1/traces/{trace_id}")
    return response.json() if response.status_code == 200 else None


def trace_of_run(server: str, run_id: str) -> str | None:
    """The trace id of a run (for servers whose responses do not carry `trace_id`)."""
    with http_client(server) as http:
        response = http.get(f"/v1/runs/{run_id}")
    return response.json().get("trace_id") if response.status_code == 200 else None


class Progress:
    """While a request runs, a line whenever the team's state changes, e.g.
    `  12s  supervisor: running (1 step) · worker_1: done · worker_2: running · ...`."""

    def __init__(
        self, server: str, team: dict[str, str], out: Callable[[str], None] = print
    ) -> None:
        self.server, self.team, self.out = server, team, out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._baseline: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._last = ""

    def __enter__(self) -> "Progress":
        with http_client(self.server) as http:
            self._baseline = {agent: _latest(http, agent).get("id") for agent in self.team}
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with http_client(self.server) as http:
            self._show(http)  # the final state, however quick the request was

    def _run(self) -> None:
        with http_client(self.server) as http:
            while not self._stop.wait(POLL_S):
                self._show(http)

    def _show(self, http: httpx.Client) -> None:
        try:
            state = self.describe(http)
        except httpx.HTTPError:
            return
        with self._lock:
            if state != self._last:
                self.out(f"  {time.monotonic() - self._started:4.0f}s  {state}")
                self._last = state

    def describe(self, http: httpx.Client) -> str:
        parts = []
        for agent_id, name in self.team.items():
            run = _latest(http, agent_id)
            if not run or run.get("id") == self._baseline.get(agent_id):
                parts.append(f"{name}: waiting")
                continue
            steps = (run.get("usage") or {}).get("step_count") or 0
            status = {"completed": "done", "created": "queued"}.get(run["status"], run["status"])
            parts.append(f"{name}: {status} ({steps} step{'s' if steps != 1 else ''})")
        return " · ".join(parts)


def _latest(http: httpx.Client, agent_id: str) -> dict[str, Any]:
    response = http.get("/v1/runs/", params={"agent_id": agent_id, "limit": 1})
    runs = response.json() if response.status_code == 200 else []
    return runs[0] if runs else {}
